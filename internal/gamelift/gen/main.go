// Command gen writes model_gen.go: the request and response shapes of the GameLift
// operations Hoist answers, with validation of every constraint the service model declares.
//
// It reads the public service model as botocore ships it (service-2.json or .json.gz).
// Without -model it asks the local Python's botocore where that file is.
//
//	go run ./internal/gamelift/gen [-model path] [-out internal/gamelift/model_gen.go]
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"io"
	"log"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// operations lists what Hoist answers: the game-session plane of GameLift.
var operations = []string{
	"CreateLocation", "ListLocations", "DeleteLocation",
	"CreateFleet", "DescribeFleetAttributes", "ListFleets", "UpdateFleetAttributes", "DeleteFleet",
	"CreateFleetLocations", "DeleteFleetLocations", "DescribeFleetLocationAttributes",
	"DescribeRuntimeConfiguration", "UpdateRuntimeConfiguration", "DescribeFleetCapacity",
	"DescribeFleetLocationCapacity", "DescribeFleetUtilization", "DescribeFleetLocationUtilization",
	"DescribeFleetEvents", "UpdateFleetCapacity", "DescribeFleetPortSettings", "UpdateFleetPortSettings",
	"StartFleetActions", "StopFleetActions",
	"RegisterCompute", "DeregisterCompute", "DescribeCompute", "ListCompute", "GetComputeAuthToken", "GetComputeAccess",
	"CreateAlias", "DescribeAlias", "ListAliases", "UpdateAlias", "DeleteAlias", "ResolveAlias",
	"CreateBuild", "DescribeBuild", "ListBuilds", "UpdateBuild", "DeleteBuild", "RequestUploadCredentials",
	"CreateGameSession", "DescribeGameSessions", "DescribeGameSessionDetails", "SearchGameSessions",
	"UpdateGameSession", "TerminateGameSession", "GetGameSessionLogUrl",
	"CreatePlayerSession", "CreatePlayerSessions", "DescribePlayerSessions", "GetPlayerConnectionDetails",
	"DescribeEC2InstanceLimits", "DescribeInstances",
	"CreateGameSessionQueue", "DescribeGameSessionQueues", "UpdateGameSessionQueue", "DeleteGameSessionQueue",
	"StartGameSessionPlacement", "DescribeGameSessionPlacement", "StopGameSessionPlacement",
	"TagResource", "UntagResource", "ListTagsForResource",
	"ValidateMatchmakingRuleSet", "CreateMatchmakingRuleSet", "DescribeMatchmakingRuleSets", "DeleteMatchmakingRuleSet",
	"CreateMatchmakingConfiguration", "DescribeMatchmakingConfigurations", "UpdateMatchmakingConfiguration",
	"DeleteMatchmakingConfiguration", "StartMatchmaking", "DescribeMatchmaking", "StopMatchmaking", "AcceptMatch",
	"StartMatchBackfill",
	"CreateContainerGroupDefinition", "DescribeContainerGroupDefinition", "ListContainerGroupDefinitions",
	"ListContainerGroupDefinitionVersions", "UpdateContainerGroupDefinition", "DeleteContainerGroupDefinition",
	"PutScalingPolicy", "DescribeScalingPolicies", "DeleteScalingPolicy",
	"CreateContainerFleet", "DescribeContainerFleet", "ListContainerFleets", "UpdateContainerFleet",
	"DeleteContainerFleet", "DescribeFleetDeployment", "ListFleetDeployments", "DescribeContainerGroupPortMappings",
}

type ref struct {
	Shape string `json:"shape"`
}

type shape struct {
	Type      string         `json:"type"`
	Members   map[string]ref `json:"members"`
	Required  []string       `json:"required"`
	Member    *ref           `json:"member"`
	Key       *ref           `json:"key"`
	Value     *ref           `json:"value"`
	Min       *float64       `json:"min"`
	Max       *float64       `json:"max"`
	Pattern   string         `json:"pattern"`
	Enum      []string       `json:"enum"`
	Exception bool           `json:"exception"`
}

type model struct {
	Operations map[string]struct {
		Input  *ref  `json:"input"`
		Output *ref  `json:"output"`
		Errors []ref `json:"errors"`
	} `json:"operations"`
	Shapes map[string]*shape `json:"shapes"`
}

func main() {
	modelPath := flag.String("model", "", "botocore service-2.json(.gz) for GameLift")
	out := flag.String("out", "model_gen.go", "file to write")
	flag.Parse()
	if *modelPath == "" {
		p, err := botocoreModel()
		if err != nil {
			log.Fatalf("no -model given and botocore not found: %v", err)
		}
		*modelPath = p
	}
	m, err := load(*modelPath)
	if err != nil {
		log.Fatal(err)
	}
	src, err := generate(m)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}

func botocoreModel() (string, error) {
	out, err := exec.Command("python3", "-c", "import botocore,os;print(os.path.dirname(botocore.__file__))").Output()
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)) + "/data/gamelift/2015-10-01/service-2.json.gz", nil
}

func load(path string) (*model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil, err
		}
		r = gz
	}
	var m model
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return &m, nil
}

type generator struct {
	m        *model
	structs  map[string]bool // structures to emit
	validate map[string]bool // structures reachable from inputs
	patterns map[string]string
	enums    map[string]string
	buf      bytes.Buffer
}

func generate(m *model) ([]byte, error) {
	g := &generator{m: m, structs: map[string]bool{}, validate: map[string]bool{}, patterns: map[string]string{}, enums: map[string]string{}}
	var errorNames []string
	for _, op := range operations {
		o, ok := m.Operations[op]
		if !ok {
			return nil, fmt.Errorf("operation %s not in model", op)
		}
		if o.Input != nil {
			g.walk(o.Input.Shape, true)
		}
		if o.Output != nil {
			g.walk(o.Output.Shape, false)
		}
		for _, e := range o.Errors {
			if !slices.Contains(errorNames, e.Shape) {
				errorNames = append(errorNames, e.Shape)
			}
		}
	}
	sort.Strings(errorNames)

	p := func(format string, args ...any) { fmt.Fprintf(&g.buf, format, args...) }
	p("// Code generated by internal/gamelift/gen from the GameLift service model. DO NOT EDIT.\n\n")
	p("package gamelift\n\nimport \"regexp\"\n\n")

	p("// Operations lists every operation whose shapes this package holds.\n")
	p("var Operations = []string{\n")
	for _, op := range operations {
		p("\t%q,\n", op)
	}
	p("}\n\n")
	all := make([]string, 0, len(m.Operations))
	for op := range m.Operations {
		all = append(all, op)
	}
	sort.Strings(all)
	p("// ModelOperations lists every operation of the GameLift model, answered or not.\n")
	p("var ModelOperations = []string{\n")
	for _, op := range all {
		p("\t%q,\n", op)
	}
	p("}\n\n")
	p("// ModelErrors lists the exception names the model declares for those operations.\n")
	p("var ModelErrors = []string{\n")
	for _, e := range errorNames {
		p("\t%q,\n", e)
	}
	p("}\n\n")

	names := make([]string, 0, len(g.structs))
	for n := range g.structs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := g.emitStruct(n); err != nil {
			return nil, err
		}
	}
	for _, op := range operations {
		if g.m.Operations[op].Output == nil {
			p("// %sOutput is empty: the operation answers with no members.\ntype %sOutput struct{}\n\n", op, op)
		}
	}
	for _, n := range names {
		if g.validate[n] {
			if err := g.emitValidate(n); err != nil {
				return nil, err
			}
		}
	}

	pn := make([]string, 0, len(g.patterns))
	for k := range g.patterns {
		pn = append(pn, k)
	}
	sort.Strings(pn)
	p("var (\n")
	for _, k := range pn {
		p("\t%s = regexp.MustCompile(%s)\n", k, strconv.Quote("^(?:"+g.patterns[k]+")$"))
	}
	en := make([]string, 0, len(g.enums))
	for k := range g.enums {
		en = append(en, k)
	}
	sort.Strings(en)
	for _, k := range en {
		p("\t%s = []string{%s}\n", k, g.enums[k])
	}
	p(")\n")

	src, err := format.Source(g.buf.Bytes())
	if err != nil {
		return g.buf.Bytes(), fmt.Errorf("gofmt generated code: %w", err)
	}
	return src, nil
}

func (g *generator) walk(name string, input bool) {
	s := g.m.Shapes[name]
	switch s.Type {
	case "structure":
		if s.Exception {
			return
		}
		seen := g.structs[name] && (!input || g.validate[name])
		g.structs[name] = true
		if input {
			g.validate[name] = true
		}
		if seen {
			return
		}
		for _, mr := range s.Members {
			g.walk(mr.Shape, input)
		}
	case "list":
		g.walk(s.Member.Shape, input)
	case "map":
		g.walk(s.Key.Shape, input)
		g.walk(s.Value.Shape, input)
	}
}

// goType is the Go type of a member of the named shape. Scalars are pointers so
// that "absent" and "zero" stay apart, as the model's required and min constraints need.
func (g *generator) goType(name string) string {
	s := g.m.Shapes[name]
	switch s.Type {
	case "structure":
		return "*" + name
	case "list":
		return "[]" + strings.TrimPrefix(g.goType(s.Member.Shape), "*")
	case "map":
		return "map[string]" + strings.TrimPrefix(g.goType(s.Value.Shape), "*")
	case "string":
		return "*string"
	case "integer":
		return "*int32"
	case "long":
		return "*int64"
	case "float":
		return "*float32"
	case "double":
		return "*float64"
	case "boolean":
		return "*bool"
	case "timestamp":
		return "*Timestamp"
	case "blob":
		return "[]byte"
	}
	panic("unknown shape type " + s.Type)
}

func (g *generator) emitStruct(name string) error {
	s := g.m.Shapes[name]
	p := func(format string, args ...any) { fmt.Fprintf(&g.buf, format, args...) }
	p("type %s struct {\n", name)
	for _, mn := range sortedMembers(s) {
		p("\t%s %s `json:\"%s,omitzero\"`\n", mn, g.goType(s.Members[mn].Shape), mn)
	}
	p("}\n\n")
	return nil
}

func sortedMembers(s *shape) []string {
	out := make([]string, 0, len(s.Members))
	for k := range s.Members {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

var identRe = regexp.MustCompile(`[^A-Za-z0-9]+`)

func (g *generator) pattern(shapeName, pat string) string {
	if _, err := regexp.Compile(pat); err != nil {
		log.Fatalf("pattern of %s does not compile in Go: %v", shapeName, err)
	}
	key := "pat" + identRe.ReplaceAllString(shapeName, "")
	g.patterns[key] = pat
	return key
}

func (g *generator) enum(shapeName string, values []string) string {
	key := "enum" + identRe.ReplaceAllString(shapeName, "")
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = strconv.Quote(v)
	}
	g.enums[key] = strings.Join(q, ", ")
	return key
}

func bound(f *float64) string {
	if f == nil {
		return "noBound"
	}
	return strconv.FormatInt(int64(*f), 10)
}

func (g *generator) emitValidate(name string) error {
	s := g.m.Shapes[name]
	p := func(format string, args ...any) { fmt.Fprintf(&g.buf, format, args...) }
	p("func (s *%s) validate(v *Validator, path string) {\n", name)
	for _, mn := range sortedMembers(s) {
		ms := s.Members[mn].Shape
		path := fmt.Sprintf("path+%q", lowerFirst(mn))
		req := slices.Contains(s.Required, mn)
		g.emitCheck(ms, "s."+mn, path, req, 1)
	}
	p("}\n\n")
	return nil
}

// emitCheck writes the checks of one value (expr, of the shape named) at path.
func (g *generator) emitCheck(shapeName, expr, path string, required bool, depth int) {
	s := g.m.Shapes[shapeName]
	p := func(format string, args ...any) { fmt.Fprintf(&g.buf, format, args...) }
	switch s.Type {
	case "structure":
		if required {
			p("\tv.Required(%s, %s != nil)\n", path, expr)
		}
		if strings.HasPrefix(expr, "&") {
			p("\t(%s).validate(v, %s+\".\")\n", expr, path)
		} else {
			p("\tif %s != nil { %s.validate(v, %s+\".\") }\n", expr, expr, path)
		}
	case "list":
		if required {
			p("\tv.Required(%s, %s != nil)\n", path, expr)
		}
		if s.Min != nil || s.Max != nil {
			p("\tif %s != nil { v.Length(%s, len(%s), %s, %s) }\n", expr, path, expr, bound(s.Min), bound(s.Max))
		}
		if g.needsCheck(s.Member.Shape) {
			iv := fmt.Sprintf("i%d", depth)
			p("\tfor %s := range %s {\n", iv, expr)
			elem := fmt.Sprintf("%s[%s]", expr, iv)
			epath := fmt.Sprintf("listPath(%s, %s)", path, iv)
			if m := g.m.Shapes[s.Member.Shape]; m.Type != "list" && m.Type != "map" {
				elem = "&" + elem
			}
			g.emitCheck(s.Member.Shape, elem, epath, false, depth+1)
			p("\t}\n")
		}
	case "map":
		if required {
			p("\tv.Required(%s, %s != nil)\n", path, expr)
		}
		if s.Min != nil || s.Max != nil {
			p("\tif %s != nil { v.Length(%s, len(%s), %s, %s) }\n", expr, path, expr, bound(s.Min), bound(s.Max))
		}
		if g.needsCheck(s.Key.Shape) || g.needsCheck(s.Value.Shape) {
			kv, vv := fmt.Sprintf("k%d", depth), fmt.Sprintf("v%d", depth)
			p("\tfor %s, %s := range %s {\n", kv, vv, expr)
			if !g.needsCheck(s.Value.Shape) {
				p("\t_ = %s\n", vv)
			}
			if g.needsCheck(s.Key.Shape) {
				g.emitCheck(s.Key.Shape, "&"+kv, fmt.Sprintf("%s+\".key\"", path), false, depth+1)
			}
			if g.needsCheck(s.Value.Shape) {
				ve := vv
				if m := g.m.Shapes[s.Value.Shape]; m.Type != "list" && m.Type != "map" {
					ve = "&" + vv
				}
				g.emitCheck(s.Value.Shape, ve, fmt.Sprintf("mapPath(%s, %s)", path, kv), false, depth+1)
			}
			p("\t}\n")
		}
	case "string":
		pat, enum := "nil", "nil"
		if s.Pattern != "" {
			pat = g.pattern(shapeName, s.Pattern)
		}
		if len(s.Enum) > 0 {
			enum = g.enum(shapeName, s.Enum)
		}
		p("\tv.String(%s, %s, %t, %s, %s, %s, %s)\n", path, expr, required, bound(s.Min), bound(s.Max), pat, enum)
	case "integer":
		p("\tv.Int32(%s, %s, %t, %s, %s)\n", path, expr, required, bound(s.Min), bound(s.Max))
	case "long":
		p("\tv.Int64(%s, %s, %t, %s, %s)\n", path, expr, required, bound(s.Min), bound(s.Max))
	default:
		if required {
			p("\tv.Required(%s, %s != nil)\n", path, expr)
		}
	}
}

// needsCheck reports whether a value of the shape has any constraint to check.
func (g *generator) needsCheck(name string) bool {
	s := g.m.Shapes[name]
	switch s.Type {
	case "structure":
		return true
	case "list":
		return s.Min != nil || s.Max != nil || g.needsCheck(s.Member.Shape)
	case "map":
		return s.Min != nil || s.Max != nil || g.needsCheck(s.Key.Shape) || g.needsCheck(s.Value.Shape)
	case "string":
		return s.Min != nil || s.Max != nil || s.Pattern != "" || len(s.Enum) > 0
	case "integer", "long":
		return s.Min != nil || s.Max != nil
	}
	return false
}

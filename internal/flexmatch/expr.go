package flexmatch

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// A property expression names values of the match being built:
//
//	expr  = func "(" expr ")" | path
//	path  = ("teams" | "team") "[" ("*" | name {"," name}) "]" [".players" [field]]
//	field = "[playerId]" | ".attributes[" attribute "]"
//	func  = min | max | avg | median | sum | count | stddev | flatten | set_intersection
//
// Values are typed by kind and list depth: teams[red].players.attributes[skill] is a
// number at depth 1 (one list), teams[*] adds a level, a string_list attribute is a string
// at depth 1 on its own. Aggregations work on the innermost lists, so on nested input they
// give one result per sublist; flatten joins the two outermost levels.

type kind int

const (
	kindNumber kind = iota
	kindString
	kindMap
	kindPlayer
	kindTeam
)

var kindNames = [...]string{"number", "string", "string_number_map", "player", "team"}

type exprType struct {
	kind  kind
	depth int
}

func (t exprType) String() string {
	s := kindNames[t.kind]
	for i := 0; i < t.depth; i++ {
		s = "List<" + s + ">"
	}
	return s
}

type field int

const (
	fieldNone    field = iota // teams[...]
	fieldPlayers              // .players
	fieldID                   // .players[playerId]
	fieldAttr                 // .players.attributes[x]
)

type expr struct {
	fn  string // "" for a path
	arg *expr

	// a path
	teams []string // nil: every team
	multi bool     // more than one team: one more list level
	field field
	attr  string

	typ      exprType
	hasCount bool // count() appears: the value can still change either way as players join
}

var aggregations = map[string]bool{"min": true, "max": true, "avg": true, "median": true, "sum": true, "count": true, "stddev": true, "flatten": true, "set_intersection": true}

// looksLikeExpression tells a property expression from a plain string value: it starts
// with a team path or a known function.
func looksLikeExpression(s string) bool {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "teams[") || strings.HasPrefix(t, "team[") {
		return true
	}
	if i := strings.IndexByte(t, '('); i > 0 {
		return aggregations[strings.TrimSpace(t[:i])]
	}
	return false
}

// parseExpr parses and type-checks a property expression against the rule set's
// attributes and team names (definition names and the numbered names quantity gives).
func parseExpr(s string, attrs map[string]AttributeType, teams map[string][]string) (*expr, error) {
	p := &exprParser{src: s, attrs: attrs, teams: teams}
	e, err := p.expr()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos != len(p.src) {
		return nil, p.errorf("unexpected %q", p.src[p.pos:])
	}
	return e, nil
}

type exprParser struct {
	src   string
	pos   int
	attrs map[string]AttributeType
	teams map[string][]string
}

func (p *exprParser) errorf(format string, args ...any) error {
	return fmt.Errorf("property expression %q at offset %d: %s", p.src, p.pos, fmt.Sprintf(format, args...))
}

func (p *exprParser) space() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t' || p.src[p.pos] == '\n' || p.src[p.pos] == '\r') {
		p.pos++
	}
}

func (p *exprParser) ident() string {
	p.space()
	start := p.pos
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			p.pos++
			continue
		}
		break
	}
	return p.src[start:p.pos]
}

func (p *exprParser) eat(tok string) bool {
	p.space()
	if strings.HasPrefix(p.src[p.pos:], tok) {
		p.pos += len(tok)
		return true
	}
	return false
}

func (p *exprParser) expect(tok string) error {
	if !p.eat(tok) {
		if p.pos >= len(p.src) {
			return p.errorf("expected %q, found the end", tok)
		}
		return p.errorf("expected %q", tok)
	}
	return nil
}

// bracket reads the text up to the next ']' (names may hold '-' or spaces).
func (p *exprParser) bracket() (string, error) {
	if err := p.expect("["); err != nil {
		return "", err
	}
	end := strings.IndexByte(p.src[p.pos:], ']')
	if end < 0 {
		return "", p.errorf("missing ']'")
	}
	in := p.src[p.pos : p.pos+end]
	p.pos += end + 1
	return strings.TrimSpace(in), nil
}

func (p *exprParser) expr() (*expr, error) {
	start := p.pos
	name := p.ident()
	if name == "" {
		if p.pos >= len(p.src) {
			return nil, p.errorf("expected a property expression, found the end")
		}
		return nil, p.errorf("expected a property expression")
	}
	if name == "teams" || name == "team" {
		return p.path()
	}
	if !aggregations[name] {
		p.pos = start
		p.space()
		return nil, p.errorf("unknown function or property %q (want teams[...] or one of avg, count, flatten, max, median, min, set_intersection, stddev, sum)", name)
	}
	if err := p.expect("("); err != nil {
		return nil, err
	}
	arg, err := p.expr()
	if err != nil {
		return nil, err
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	e := &expr{fn: name, arg: arg, hasCount: arg.hasCount || name == "count"}
	at := arg.typ
	switch name {
	case "min", "max", "avg", "median", "sum", "stddev":
		if at.kind != kindNumber || at.depth < 1 {
			return nil, p.errorf("%s needs a list of numbers, got %s", name, at)
		}
		e.typ = exprType{kindNumber, at.depth - 1}
	case "count":
		if at.depth < 1 {
			return nil, p.errorf("count needs a list, got %s", at)
		}
		e.typ = exprType{kindNumber, at.depth - 1}
	case "flatten":
		if at.depth < 2 {
			return nil, p.errorf("flatten needs a list of lists, got %s", at)
		}
		e.typ = exprType{at.kind, at.depth - 1}
	case "set_intersection":
		if at.kind != kindString || at.depth < 2 {
			return nil, p.errorf("set_intersection needs a list of string lists, got %s", at)
		}
		e.typ = exprType{kindString, at.depth - 1}
	}
	return e, nil
}

func (p *exprParser) path() (*expr, error) {
	in, err := p.bracket()
	if err != nil {
		return nil, err
	}
	e := &expr{}
	if in == "*" {
		e.multi = true
	} else {
		for _, n := range strings.Split(in, ",") {
			n = strings.TrimSpace(n)
			names, ok := p.teams[n]
			if !ok {
				return nil, p.errorf("unknown team %q", n)
			}
			e.teams = append(e.teams, names...)
		}
		e.multi = len(e.teams) > 1 || strings.Contains(in, ",")
	}
	depth := 0
	if e.multi {
		depth = 1
	}
	e.typ = exprType{kindTeam, depth}
	if !p.eat(".") {
		return e, nil
	}
	if p.ident() != "players" {
		return nil, p.errorf("expected players after a team")
	}
	e.field = fieldPlayers
	e.typ = exprType{kindPlayer, depth + 1}
	p.space()
	if p.pos < len(p.src) && p.src[p.pos] == '[' {
		in, err := p.bracket()
		if err != nil {
			return nil, err
		}
		if !strings.EqualFold(in, "playerId") {
			return nil, p.errorf("players[%s]: only players[playerId] is a player property", in)
		}
		e.field = fieldID
		e.typ = exprType{kindString, depth + 1}
		return e, nil
	}
	if !p.eat(".") {
		return e, nil
	}
	if p.ident() != "attributes" {
		return nil, p.errorf("expected attributes[name] after players")
	}
	name, err := p.bracket()
	if err != nil {
		return nil, err
	}
	at, ok := p.attrs[name]
	if !ok {
		return nil, p.errorf("attribute %q is not declared in playerAttributes", name)
	}
	e.field, e.attr = fieldAttr, name
	switch at {
	case AttributeNumber:
		e.typ = exprType{kindNumber, depth + 1}
	case AttributeString:
		e.typ = exprType{kindString, depth + 1}
	case AttributeStringList:
		e.typ = exprType{kindString, depth + 2}
	case AttributeStringNumberMap:
		e.typ = exprType{kindMap, depth + 1}
	}
	return e, nil
}

// value is an evaluated expression: a scalar, or a list of values. A missing value (the
// average of an empty team) is skipped by whatever consumes it.
type value struct {
	missing bool
	num     float64
	str     string
	list    []value
}

// eval evaluates the expression on a match under construction.
func (e *expr) eval(m *matchView) value {
	if e.fn == "" {
		return e.evalPath(m)
	}
	v := e.arg.eval(m)
	if e.fn == "flatten" {
		out := []value{}
		for _, sub := range v.list {
			out = append(out, sub.list...)
		}
		return value{list: out}
	}
	return applyInner(e.fn, v, e.arg.typ.depth)
}

// applyInner applies an aggregation at the innermost list level.
func applyInner(fn string, v value, depth int) value {
	innermost := 1
	if fn == "set_intersection" {
		innermost = 2 // a list of string lists
	}
	if depth > innermost {
		out := make([]value, len(v.list))
		for i, sub := range v.list {
			out[i] = applyInner(fn, sub, depth-1)
		}
		return value{list: out}
	}
	switch fn {
	case "count":
		return value{num: float64(len(v.list))}
	case "set_intersection":
		if len(v.list) == 0 {
			return value{list: []value{}}
		}
		var acc []value
		for i, sub := range v.list {
			if i == 0 {
				acc = dedupStrings(sub.list)
				continue
			}
			acc = slices.DeleteFunc(acc, func(a value) bool {
				return !slices.ContainsFunc(sub.list, func(b value) bool { return b.str == a.str })
			})
		}
		return value{list: acc}
	}
	nums := make([]float64, 0, len(v.list))
	for _, x := range v.list {
		if !x.missing {
			nums = append(nums, x.num)
		}
	}
	if len(nums) == 0 {
		if fn == "sum" {
			return value{}
		}
		return value{missing: true}
	}
	switch fn {
	case "min":
		return value{num: slices.Min(nums)}
	case "max":
		return value{num: slices.Max(nums)}
	case "sum":
		return value{num: sum(nums)}
	case "avg":
		return value{num: sum(nums) / float64(len(nums))}
	case "median":
		sort.Float64s(nums)
		n := len(nums)
		if n%2 == 1 {
			return value{num: nums[n/2]}
		}
		return value{num: (nums[n/2-1] + nums[n/2]) / 2}
	case "stddev":
		mean := sum(nums) / float64(len(nums))
		var ss float64
		for _, x := range nums {
			ss += (x - mean) * (x - mean)
		}
		return value{num: math.Sqrt(ss / float64(len(nums)))}
	}
	return value{missing: true}
}

func sum(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s
}

func dedupStrings(in []value) []value {
	out := make([]value, 0, len(in))
	for _, v := range in {
		if !slices.ContainsFunc(out, func(o value) bool { return o.str == v.str }) {
			out = append(out, v)
		}
	}
	return out
}

func (e *expr) evalPath(m *matchView) value {
	teamValue := func(t *viewTeam) value {
		if e.field == fieldNone {
			return value{}
		}
		out := make([]value, 0, len(t.players))
		for _, p := range t.players {
			switch e.field {
			case fieldPlayers:
				out = append(out, value{})
			case fieldID:
				out = append(out, value{str: p.p.ID})
			case fieldAttr:
				out = append(out, m.attr(p, e.attr))
			}
		}
		return value{list: out}
	}
	if !e.multi {
		return teamValue(m.team(e.teams[0]))
	}
	out := []value{}
	if e.teams == nil {
		out = make([]value, len(m.teams))
		for i := range m.teams {
			out[i] = teamValue(&m.teams[i])
		}
	} else {
		out = make([]value, len(e.teams))
		for i, n := range e.teams {
			out[i] = teamValue(m.team(n))
		}
	}
	return value{list: out}
}

// scalars flattens a value to its scalars, dropping missing ones.
func (v value) scalars(dst []value) []value {
	if v.list != nil {
		for _, x := range v.list {
			dst = x.scalars(dst)
		}
		return dst
	}
	if !v.missing {
		dst = append(dst, v)
	}
	return dst
}

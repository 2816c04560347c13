package flexmatch

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Parse reads and validates a rule set body as GameLift's ValidateMatchmakingRuleSet and
// CreateMatchmakingRuleSet do. A rule set that is not valid gives an *Error naming the
// first problem: where (a JSON path such as rules[1].maxDistance) and what. Comments (//
// and /* */), which GameLift's published examples carry, are allowed.
func Parse(body []byte) (*RuleSet, error) {
	tree, err := decodeTree(body)
	if err != nil {
		return nil, err
	}
	root, ok := tree.(*object)
	if !ok {
		return nil, errorf("", "a rule set is a JSON object")
	}
	p := &parser{rs: &RuleSet{attrs: map[string]AttributeType{}, attrIndex: map[string]int{}, teamNames: map[string][]string{}, ruleIndex: map[string]int{}}}
	if err := p.parse(root); err != nil {
		return nil, err
	}
	p.rs.buildParams()
	p.rs.index()
	return p.rs, nil
}

type parser struct {
	rs *RuleSet
}

// fields reads one JSON object, checking its keys against the allowed ones.
type fields struct {
	o    *object
	path string
}

func asObject(v any, path string) (fields, error) {
	o, ok := v.(*object)
	if !ok {
		return fields{}, errorf(path, "must be an object, not %s", describe(v))
	}
	return fields{o, path}, nil
}

func describe(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return fmt.Sprintf("the string %q", t)
	case json.Number:
		return "the number " + t.String()
	case []any:
		return "an array"
	case *object:
		return "an object"
	}
	return "an unknown value"
}

func (f fields) at(key string) string { return joinPath(f.path, key) }

func (f fields) has(key string) bool { _, ok := f.o.vals[key]; return ok }

func (f fields) only(allowed ...string) error {
	for _, k := range f.o.keys {
		if !slices.Contains(allowed, k) {
			return errorf(f.at(k), "unknown property (allowed here: %s)", strings.Join(allowed, ", "))
		}
	}
	return nil
}

func (f fields) str(key string, required bool) (string, error) {
	v, ok := f.o.vals[key]
	if !ok {
		if required {
			return "", errorf(f.at(key), "is required")
		}
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", errorf(f.at(key), "must be a string, not %s", describe(v))
	}
	if required && strings.TrimSpace(s) == "" {
		return "", errorf(f.at(key), "must not be empty")
	}
	return s, nil
}

func (f fields) enum(key, def string, allowed ...string) (string, error) {
	s, err := f.str(key, false)
	if err != nil {
		return "", err
	}
	if !f.has(key) {
		return def, nil
	}
	if !slices.Contains(allowed, s) {
		return "", errorf(f.at(key), "%q is not one of %s", s, strings.Join(allowed, ", "))
	}
	return s, nil
}

// number reads a number; GameLift also takes numbers written as strings ("500").
func (f fields) number(key string, required bool) (bound, error) {
	v, ok := f.o.vals[key]
	if !ok {
		if required {
			return bound{}, errorf(f.at(key), "is required")
		}
		return bound{}, nil
	}
	n, err := toNumber(v)
	if err != nil {
		return bound{}, errorf(f.at(key), "%s", err.Error())
	}
	return bound{true, n}, nil
}

func toNumber(v any) (float64, error) {
	var s string
	switch t := v.(type) {
	case json.Number:
		s = t.String()
	case string:
		s = strings.TrimSpace(t)
	default:
		return 0, fmt.Errorf("must be a number, not %s", describe(v))
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
		return 0, fmt.Errorf("must be a number, not %s", describe(v))
	}
	return n, nil
}

func (f fields) integer(key string, required bool, min int) (int, bool, error) {
	b, err := f.number(key, required)
	if err != nil || !b.set {
		return 0, false, err
	}
	if b.v != math.Trunc(b.v) || b.v > 1e6 {
		return 0, false, errorf(f.at(key), "must be a whole number, not %v", b.v)
	}
	if int(b.v) < min {
		return 0, false, errorf(f.at(key), "must be at least %d, not %d", min, int(b.v))
	}
	return int(b.v), true, nil
}

func (f fields) array(key string, required bool) ([]any, error) {
	v, ok := f.o.vals[key]
	if !ok {
		if required {
			return nil, errorf(f.at(key), "is required")
		}
		return nil, nil
	}
	a, ok := v.([]any)
	if !ok {
		return nil, errorf(f.at(key), "must be an array, not %s", describe(v))
	}
	return a, nil
}

func (p *parser) parse(root *object) error {
	f := fields{root, ""}
	if err := f.only("name", "ruleLanguageVersion", "playerAttributes", "algorithm", "teams", "rules", "expansions"); err != nil {
		return err
	}
	var err error
	if p.rs.Name, err = f.str("name", false); err != nil {
		return err
	}
	v, err := f.str("ruleLanguageVersion", true)
	if err != nil {
		return err
	}
	if v != "1.0" {
		return errorf("ruleLanguageVersion", "must be \"1.0\", not %q", v)
	}
	if err := p.attributes(f); err != nil {
		return err
	}
	if err := p.teams(f); err != nil {
		return err
	}
	if err := p.algorithm(f); err != nil {
		return err
	}
	if err := p.rules(f); err != nil {
		return err
	}
	return p.expansions(f)
}

func (p *parser) attributes(f fields) error {
	list, err := f.array("playerAttributes", false)
	if err != nil {
		return err
	}
	for i, v := range list {
		path := fmt.Sprintf("playerAttributes[%d]", i)
		a, err := asObject(v, path)
		if err != nil {
			return err
		}
		if err := a.only("name", "type", "default"); err != nil {
			return err
		}
		name, err := a.str("name", true)
		if err != nil {
			return err
		}
		if _, dup := p.rs.attrs[name]; dup {
			return errorf(a.at("name"), "attribute %q is declared twice", name)
		}
		typ, err := a.enum("type", "", "string", "number", "string_list", "string_number_map")
		if err != nil {
			return err
		}
		if typ == "" {
			return errorf(a.at("type"), "is required")
		}
		attr := PlayerAttribute{Name: name, Type: AttributeType(typ)}
		if d, ok := a.o.vals["default"]; ok {
			val, err := attributeDefault(attr.Type, d)
			if err != nil {
				return errorf(a.at("default"), "%s", err.Error())
			}
			attr.Default = &val
		}
		p.rs.attrs[name] = attr.Type
		p.rs.attrIndex[name] = len(p.rs.Attributes)
		p.rs.Attributes = append(p.rs.Attributes, attr)
	}
	return nil
}

func attributeDefault(t AttributeType, v any) (AttributeValue, error) {
	switch t {
	case AttributeString:
		if s, ok := v.(string); ok {
			return String(s), nil
		}
	case AttributeNumber:
		if n, err := toNumber(v); err == nil {
			return Number(n), nil
		}
	case AttributeStringList:
		if a, ok := v.([]any); ok {
			out := []string{}
			for _, e := range a {
				s, ok := e.(string)
				if !ok {
					return AttributeValue{}, fmt.Errorf("a string_list default holds strings only, not %s", describe(e))
				}
				out = append(out, s)
			}
			return StringList(out...), nil
		}
	case AttributeStringNumberMap:
		if o, ok := v.(*object); ok {
			m := map[string]float64{}
			for _, k := range o.keys {
				n, err := toNumber(o.vals[k])
				if err != nil {
					return AttributeValue{}, fmt.Errorf("value of %q %s", k, err.Error())
				}
				m[k] = n
			}
			return StringNumberMap(m), nil
		}
	}
	return AttributeValue{}, fmt.Errorf("must be a %s value, not %s", t, describe(v))
}

func (p *parser) teams(f fields) error {
	list, err := f.array("teams", true)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return errorf("teams", "must define at least one team")
	}
	total := 0
	for i, v := range list {
		path := fmt.Sprintf("teams[%d]", i)
		t, err := asObject(v, path)
		if err != nil {
			return err
		}
		if err := t.only("name", "minPlayers", "maxPlayers", "quantity"); err != nil {
			return err
		}
		name, err := t.str("name", true)
		if err != nil {
			return err
		}
		if strings.ContainsAny(name, "[],*") {
			return errorf(t.at("name"), "team name %q may not hold [ ] , or *", name)
		}
		maxP, _, err := t.integer("maxPlayers", true, 1)
		if err != nil {
			return err
		}
		minP, _, err := t.integer("minPlayers", true, 0)
		if err != nil {
			return err
		}
		if minP > maxP {
			return errorf(t.at("minPlayers"), "%d is more than maxPlayers %d", minP, maxP)
		}
		qty, set, err := t.integer("quantity", false, 1)
		if err != nil {
			return err
		}
		if !set {
			qty = 1
		}
		def := len(p.rs.Teams)
		names := []string{name}
		if qty > 1 {
			names = names[:0]
			for k := 1; k <= qty; k++ {
				names = append(names, fmt.Sprintf("%s_%d", name, k))
			}
		}
		if _, dup := p.rs.teamNames[name]; dup {
			return errorf(t.at("name"), "team %q is defined twice (or clashes with a numbered team name)", name)
		}
		p.rs.teamNames[name] = names
		for _, n := range names {
			if n == name {
				continue
			}
			if _, dup := p.rs.teamNames[n]; dup {
				return errorf(t.at("name"), "numbered team name %q clashes with another team", n)
			}
			p.rs.teamNames[n] = []string{n}
		}
		for _, n := range names {
			p.rs.slots = append(p.rs.slots, teamSlot{name: n, def: def})
		}
		p.rs.Teams = append(p.rs.Teams, Team{Name: name, MinPlayers: minP, MaxPlayers: maxP, Quantity: qty})
		total += maxP * qty
		if total > MaxPlayersPerMatch {
			break
		}
	}
	if total > MaxPlayersPerMatch {
		return errorf("teams", "teams hold more than %d players (maxPlayers times quantity, summed); %d is the most a match can have", total, MaxPlayersPerMatch)
	}
	p.rs.MaxPlayers = total
	p.rs.Large = total > MaxPlayersSmallMatch
	return nil
}

func (p *parser) algorithm(root fields) error {
	a := &p.rs.Algorithm
	*a = Algorithm{Strategy: "exhaustiveSearch", BatchingPreference: "random", ExpansionAgeSelection: "oldest", BackfillPriority: "normal"}
	v, ok := root.o.vals["algorithm"]
	if !ok {
		if p.rs.Large {
			return errorf("algorithm", "is required: these teams hold %d players, more than %d, so the rule set needs strategy \"balanced\" and a balancedAttribute", p.rs.MaxPlayers, MaxPlayersSmallMatch)
		}
		return nil
	}
	f, err := asObject(v, "algorithm")
	if err != nil {
		return err
	}
	if err := f.only("strategy", "batchingPreference", "sortByAttributes", "balancedAttribute", "expansionAgeSelection", "backfillPriority"); err != nil {
		return err
	}
	if a.Strategy, err = f.enum("strategy", "exhaustiveSearch", "exhaustiveSearch", "balanced"); err != nil {
		return err
	}
	if p.rs.Large && a.Strategy != "balanced" {
		return errorf(f.at("strategy"), "must be \"balanced\": these teams hold %d players, more than %d", p.rs.MaxPlayers, MaxPlayersSmallMatch)
	}
	if a.Strategy == "balanced" {
		if a.BatchingPreference, err = f.enum("batchingPreference", "largestPopulation", "largestPopulation", "fastestRegion"); err != nil {
			return errorf(f.at("batchingPreference"), "%s (strategy \"balanced\" takes largestPopulation or fastestRegion)", err.(*Error).Message)
		}
		name, err := f.str("balancedAttribute", true)
		if err != nil {
			return errorf(f.at("balancedAttribute"), "%s with strategy \"balanced\"", err.(*Error).Message)
		}
		if t, ok := p.rs.attrs[name]; !ok {
			return errorf(f.at("balancedAttribute"), "attribute %q is not declared in playerAttributes", name)
		} else if t != AttributeNumber {
			return errorf(f.at("balancedAttribute"), "attribute %q is a %s; a balanced attribute must be a number", name, t)
		}
		a.BalancedAttribute = name
	} else {
		if a.BatchingPreference, err = f.enum("batchingPreference", "random", "random", "sorted"); err != nil {
			return errorf(f.at("batchingPreference"), "%s (strategy \"exhaustiveSearch\" takes random or sorted)", err.(*Error).Message)
		}
		if f.has("balancedAttribute") {
			return errorf(f.at("balancedAttribute"), "only applies with strategy \"balanced\"")
		}
	}
	list, err := f.array("sortByAttributes", false)
	if err != nil {
		return err
	}
	if a.BatchingPreference == "sorted" && len(list) == 0 {
		return errorf(f.at("sortByAttributes"), "is required, with at least one attribute, when batchingPreference is \"sorted\"")
	}
	if a.BatchingPreference != "sorted" && f.has("sortByAttributes") {
		return errorf(f.at("sortByAttributes"), "only applies when batchingPreference is \"sorted\"")
	}
	for i, v := range list {
		path := fmt.Sprintf("algorithm.sortByAttributes[%d]", i)
		name, ok := v.(string)
		if !ok {
			return errorf(path, "must be an attribute name, not %s", describe(v))
		}
		t, ok := p.rs.attrs[name]
		if !ok {
			return errorf(path, "attribute %q is not declared in playerAttributes", name)
		}
		if t != AttributeNumber && t != AttributeString {
			return errorf(path, "attribute %q is a %s; sorting takes number or string attributes", name, t)
		}
		a.SortByAttributes = append(a.SortByAttributes, name)
	}
	if a.ExpansionAgeSelection, err = f.enum("expansionAgeSelection", "oldest", "oldest", "newest"); err != nil {
		return err
	}
	if a.BackfillPriority, err = f.enum("backfillPriority", "normal", "normal", "low", "high"); err != nil {
		return err
	}
	return nil
}

var ruleProps = map[RuleType][]string{
	RuleComparison:    {"measurements", "referenceValue", "operation", "partyAggregation"},
	RuleDistance:      {"measurements", "referenceValue", "minDistance", "maxDistance", "partyAggregation"},
	RuleCollection:    {"measurements", "referenceValue", "operation", "minCount", "maxCount", "partyAggregation"},
	RuleLatency:       {"maxLatency", "maxDistance", "distanceReference", "partyAggregation"},
	RuleBatchDistance: {"batchAttribute", "maxDistance", "partyAggregation"},
	RuleAbsoluteSort:  {"sortDirection", "sortAttribute", "mapKey", "partyAggregation"},
	RuleDistanceSort:  {"sortDirection", "sortAttribute", "mapKey", "partyAggregation"},
	RuleCompound:      {"statement"},
}

func (p *parser) rules(root fields) error {
	list, err := root.array("rules", false)
	if err != nil {
		return err
	}
	for i, v := range list {
		path := fmt.Sprintf("rules[%d]", i)
		f, err := asObject(v, path)
		if err != nil {
			return err
		}
		name, err := f.str("name", true)
		if err != nil {
			return err
		}
		if strings.ContainsAny(name, "[](), ") {
			return errorf(f.at("name"), "rule name %q may not hold brackets, parentheses, commas or spaces", name)
		}
		if _, dup := p.rs.ruleIndex[name]; dup {
			return errorf(f.at("name"), "rule %q is defined twice", name)
		}
		typ, err := f.str("type", true)
		if err != nil {
			return err
		}
		rt := RuleType(typ)
		props, ok := ruleProps[rt]
		if !ok {
			return errorf(f.at("type"), "unknown rule type %q (want comparison, distance, collection, latency, batchDistance, absoluteSort, distanceSort or compound)", typ)
		}
		if p.rs.Large && rt != RuleLatency && rt != RuleBatchDistance {
			return errorf(f.at("type"), "a %s rule is not available for large matches (more than %d players); they take latency and batchDistance rules only", typ, MaxPlayersSmallMatch)
		}
		if err := f.only(append([]string{"name", "type", "description"}, props...)...); err != nil {
			return err
		}
		r := Rule{Name: name, Type: rt}
		if r.Description, err = f.str("description", false); err != nil {
			return err
		}
		if err := p.rule(&r, f); err != nil {
			return err
		}
		p.rs.ruleIndex[name] = len(p.rs.Rules)
		p.rs.Rules = append(p.rs.Rules, r)
	}
	// Compound rules may name rules defined after them; resolve once all are known.
	for i := range p.rs.Rules {
		r := &p.rs.Rules[i]
		if r.Type != RuleCompound {
			continue
		}
		path := fmt.Sprintf("rules[%d].statement", i)
		for _, n := range r.statement.ruleNames(nil) {
			j, ok := p.rs.ruleIndex[n]
			if !ok {
				return errorf(path, "statement names rule %q, which is not defined", n)
			}
			switch t := p.rs.Rules[j].Type; t {
			case RuleComparison, RuleDistance, RuleCollection, RuleCompound:
			default:
				return errorf(path, "statement names %s rule %q; compound rules combine comparison, distance, collection and compound rules", t, n)
			}
			if j == i {
				return errorf(path, "statement names its own rule %q", n)
			}
			p.rs.Rules[j].inCompound = true
		}
	}
	for i := range p.rs.Rules {
		if err := p.checkCycle(i, nil); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) checkCycle(i int, seen []int) error {
	if slices.Contains(seen, i) {
		return errorf(fmt.Sprintf("rules[%d].statement", seen[0]), "compound rules name each other in a cycle")
	}
	r := &p.rs.Rules[i]
	if r.Type != RuleCompound {
		return nil
	}
	for _, n := range r.statement.ruleNames(nil) {
		if err := p.checkCycle(p.rs.ruleIndex[n], append(seen, i)); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) expr(s, path string) (*expr, error) {
	e, err := parseExpr(s, p.rs.attrs, p.rs.teamNames)
	if err != nil {
		return nil, errorf(path, "%s", err.Error())
	}
	return e, nil
}

func (p *parser) measurements(r *Rule, f fields) error {
	v, ok := f.o.vals["measurements"]
	if !ok {
		return errorf(f.at("measurements"), "is required")
	}
	var list []string
	switch t := v.(type) {
	case string:
		list = []string{t}
	case []any:
		if len(t) == 0 {
			return errorf(f.at("measurements"), "must name at least one property expression")
		}
		for i, e := range t {
			s, ok := e.(string)
			if !ok {
				return errorf(fmt.Sprintf("%s[%d]", f.at("measurements"), i), "must be a property expression string, not %s", describe(e))
			}
			list = append(list, s)
		}
	default:
		return errorf(f.at("measurements"), "must be a property expression or a list of them, not %s", describe(v))
	}
	for i, s := range list {
		path := f.at("measurements")
		if _, isList := v.([]any); isList {
			path = fmt.Sprintf("%s[%d]", path, i)
		}
		e, err := p.expr(s, path)
		if err != nil {
			return err
		}
		switch r.Type {
		case RuleComparison:
			if e.typ.kind != kindNumber && e.typ.kind != kindString {
				return errorf(path, "a comparison measures numbers or strings, not %s", e.typ)
			}
		case RuleDistance:
			if e.typ.kind != kindNumber {
				return errorf(path, "a distance measures numbers, not %s", e.typ)
			}
		case RuleCollection:
			if e.typ.kind != kindString || e.typ.depth < 1 {
				return errorf(path, "a collection measures string lists, not %s", e.typ)
			}
		}
		if r.Type != RuleCollection && i > 0 && e.typ.kind != r.measurements[0].typ.kind {
			return errorf(path, "measures %s while the first measurement is %s", e.typ, r.measurements[0].typ)
		}
		r.measurements = append(r.measurements, e)
	}
	return nil
}

// reference reads referenceValue: a JSON number, a property expression, or a plain string.
func (p *parser) reference(r *Rule, f fields) error {
	v, ok := f.o.vals["referenceValue"]
	if !ok {
		return nil
	}
	path := f.at("referenceValue")
	switch t := v.(type) {
	case json.Number:
		n, _ := toNumber(t)
		r.ref.kind = refNumber
		r.nums[propReferenceValue] = bound{true, n}
	case string:
		if looksLikeExpression(t) {
			e, err := p.expr(t, path)
			if err != nil {
				return err
			}
			r.ref = reference{kind: refExpr, expr: e}
			return nil
		}
		if n, err := toNumber(t); err == nil && r.Type == RuleDistance {
			r.ref.kind = refNumber
			r.nums[propReferenceValue] = bound{true, n}
			return nil
		}
		r.ref = reference{kind: refString, str: t}
	case []any:
		r.ref.kind = refStrings
		for i, e := range t {
			s, ok := e.(string)
			if !ok {
				return errorf(fmt.Sprintf("%s[%d]", path, i), "must be a string, not %s", describe(e))
			}
			r.ref.strs = append(r.ref.strs, s)
		}
	default:
		return errorf(path, "must be a number, a string or a property expression, not %s", describe(v))
	}
	return nil
}

func (p *parser) rule(r *Rule, f fields) error {
	var err error
	numeric := []string{"avg", "min", "max"}
	switch r.Type {
	case RuleCollection:
		r.aggregation, err = f.enum("partyAggregation", "union", "union", "intersection")
	case RuleCompound:
	default:
		r.aggregation, err = f.enum("partyAggregation", "avg", numeric...)
	}
	if err != nil {
		return err
	}
	switch r.Type {
	case RuleComparison:
		return p.comparison(r, f)
	case RuleDistance:
		return p.distance(r, f)
	case RuleCollection:
		return p.collection(r, f)
	case RuleLatency:
		return p.latency(r, f)
	case RuleBatchDistance:
		return p.batchDistance(r, f)
	case RuleAbsoluteSort, RuleDistanceSort:
		return p.sortRule(r, f)
	case RuleCompound:
		s, err := f.str("statement", true)
		if err != nil {
			return err
		}
		if r.statement, err = parseStatement(s); err != nil {
			return errorf(f.at("statement"), "%s", err.Error())
		}
	}
	return nil
}

func (p *parser) comparison(r *Rule, f fields) error {
	if err := p.measurements(r, f); err != nil {
		return err
	}
	op, err := f.enum("operation", "", "<", "<=", "=", "!=", ">", ">=")
	if err != nil {
		return err
	}
	if op == "" {
		return errorf(f.at("operation"), "is required")
	}
	r.operation = op
	if err := p.reference(r, f); err != nil {
		return err
	}
	mk := r.measurements[0].typ.kind
	ordered := op != "=" && op != "!="
	switch r.ref.kind {
	case refNone:
		if ordered {
			return errorf(f.at("operation"), "%q needs a referenceValue; without one a comparison takes = (all equal) or != (all different)", op)
		}
	case refNumber:
		if mk != kindNumber {
			return errorf(f.at("referenceValue"), "is a number but the measurements are strings")
		}
	case refString:
		if mk != kindString {
			return errorf(f.at("referenceValue"), "is a string but the measurements are numbers")
		}
	case refStrings:
		return errorf(f.at("referenceValue"), "a comparison compares with one value, not a list")
	case refExpr:
		rt := r.ref.expr.typ
		if rt.depth != 0 || rt.kind != mk {
			return errorf(f.at("referenceValue"), "must give one %s, not %s", kindNames[mk], rt)
		}
	}
	if mk == kindString && ordered {
		return errorf(f.at("operation"), "%q compares numbers; strings take = and !=", op)
	}
	for _, m := range r.measurements {
		r.deferred = r.deferred || m.hasCount
	}
	r.deferred = r.deferred || (r.ref.kind == refExpr && r.ref.expr.hasCount)
	return nil
}

func (p *parser) distance(r *Rule, f fields) error {
	if err := p.measurements(r, f); err != nil {
		return err
	}
	if err := p.reference(r, f); err != nil {
		return err
	}
	switch r.ref.kind {
	case refString, refStrings:
		return errorf(f.at("referenceValue"), "must be a number or a property expression giving one")
	case refExpr:
		if t := r.ref.expr.typ; t.kind != kindNumber || t.depth != 0 {
			return errorf(f.at("referenceValue"), "must give one number, not %s", t)
		}
	}
	var err error
	if r.nums[propMinDistance], err = f.number("minDistance", false); err != nil {
		return err
	}
	if r.nums[propMaxDistance], err = f.number("maxDistance", false); err != nil {
		return err
	}
	lo, hi := r.nums[propMinDistance], r.nums[propMaxDistance]
	if !lo.set && !hi.set {
		return errorf(f.path, "a distance rule needs minDistance, maxDistance or both")
	}
	if lo.set && lo.v < 0 {
		return errorf(f.at("minDistance"), "must not be negative")
	}
	if hi.set && hi.v < 0 {
		return errorf(f.at("maxDistance"), "must not be negative")
	}
	if lo.set && hi.set && lo.v > hi.v {
		return errorf(f.at("minDistance"), "%v is more than maxDistance %v", lo.v, hi.v)
	}
	for _, m := range r.measurements {
		r.deferred = r.deferred || m.hasCount
	}
	r.deferred = r.deferred || (r.ref.kind == refExpr && r.ref.expr.hasCount)
	return nil
}

func (p *parser) collection(r *Rule, f fields) error {
	if err := p.measurements(r, f); err != nil {
		return err
	}
	op, err := f.enum("operation", "", "intersection", "contains", "reference_intersection_count")
	if err != nil {
		return err
	}
	if op == "" {
		return errorf(f.at("operation"), "is required")
	}
	r.operation = op
	if err := p.reference(r, f); err != nil {
		return err
	}
	switch op {
	case "intersection":
		if f.has("referenceValue") {
			return errorf(f.at("referenceValue"), "an intersection takes no referenceValue")
		}
	case "contains":
		switch r.ref.kind {
		case refNone:
			return errorf(f.at("referenceValue"), "is required: the value to look for")
		case refString:
		case refExpr:
			if t := r.ref.expr.typ; t.kind != kindString || t.depth != 0 {
				return errorf(f.at("referenceValue"), "must give one string, not %s", t)
			}
		default:
			return errorf(f.at("referenceValue"), "contains looks for one string")
		}
	case "reference_intersection_count":
		switch r.ref.kind {
		case refNone:
			return errorf(f.at("referenceValue"), "is required: the list to intersect with")
		case refString, refStrings:
		case refExpr:
			if t := r.ref.expr.typ; t.kind != kindString || t.depth > 1 {
				return errorf(f.at("referenceValue"), "must give a string list, not %s", t)
			}
		default:
			return errorf(f.at("referenceValue"), "must be a string list")
		}
	}
	if r.nums[propMinCount], err = f.number("minCount", false); err != nil {
		return err
	}
	if r.nums[propMaxCount], err = f.number("maxCount", false); err != nil {
		return err
	}
	lo, hi := r.nums[propMinCount], r.nums[propMaxCount]
	if !lo.set && !hi.set {
		return errorf(f.path, "a collection rule needs minCount, maxCount or both")
	}
	if lo.set && lo.v < 0 || hi.set && hi.v < 0 {
		return errorf(f.path, "minCount and maxCount must not be negative")
	}
	if lo.set && hi.set && lo.v > hi.v {
		return errorf(f.at("minCount"), "%v is more than maxCount %v", lo.v, hi.v)
	}
	for _, m := range r.measurements {
		r.deferred = r.deferred || m.hasCount
	}
	return nil
}

func (p *parser) latency(r *Rule, f fields) error {
	var err error
	if r.nums[propMaxLatency], err = f.number("maxLatency", false); err != nil {
		return err
	}
	if r.nums[propMaxDistance], err = f.number("maxDistance", false); err != nil {
		return err
	}
	if p.rs.Large {
		for _, k := range []string{"maxDistance", "distanceReference"} {
			if f.has(k) {
				return errorf(f.at(k), "large matches take maxLatency only in latency rules")
			}
		}
		if !r.nums[propMaxLatency].set {
			return errorf(f.at("maxLatency"), "is required")
		}
	}
	if !r.nums[propMaxLatency].set && !r.nums[propMaxDistance].set {
		return errorf(f.path, "a latency rule needs maxLatency, maxDistance or both")
	}
	if b := r.nums[propMaxLatency]; b.set && b.v < 0 {
		return errorf(f.at("maxLatency"), "must not be negative")
	}
	if b := r.nums[propMaxDistance]; b.set && b.v < 0 {
		return errorf(f.at("maxDistance"), "must not be negative")
	}
	if r.distanceRef, err = f.enum("distanceReference", "", "min", "avg"); err != nil {
		return err
	}
	if r.nums[propMaxDistance].set && r.distanceRef == "" {
		return errorf(f.at("distanceReference"), "is required with maxDistance (min or avg)")
	}
	if !r.nums[propMaxDistance].set && r.distanceRef != "" {
		return errorf(f.at("distanceReference"), "only applies with maxDistance")
	}
	return nil
}

func (p *parser) batchDistance(r *Rule, f fields) error {
	name, err := f.str("batchAttribute", true)
	if err != nil {
		return err
	}
	t, ok := p.rs.attrs[name]
	if !ok {
		return errorf(f.at("batchAttribute"), "attribute %q is not declared in playerAttributes", name)
	}
	r.attr, r.attrType = name, t
	if r.nums[propMaxDistance], err = f.number("maxDistance", false); err != nil {
		return err
	}
	switch t {
	case AttributeNumber:
		if !r.nums[propMaxDistance].set {
			return errorf(f.at("maxDistance"), "is required for the number attribute %q", name)
		}
		if r.nums[propMaxDistance].v < 0 {
			return errorf(f.at("maxDistance"), "must not be negative")
		}
	case AttributeString:
		if f.has("maxDistance") {
			return errorf(f.at("maxDistance"), "does not apply to the string attribute %q: its players all share one value", name)
		}
	default:
		return errorf(f.at("batchAttribute"), "attribute %q is a %s; batchDistance takes number or string attributes", name, t)
	}
	return nil
}

func (p *parser) sortRule(r *Rule, f fields) error {
	dir, err := f.enum("sortDirection", "", "ascending", "descending")
	if err != nil {
		return err
	}
	if dir == "" {
		return errorf(f.at("sortDirection"), "is required")
	}
	r.descending = dir == "descending"
	name, err := f.str("sortAttribute", true)
	if err != nil {
		return err
	}
	t, ok := p.rs.attrs[name]
	if !ok {
		return errorf(f.at("sortAttribute"), "attribute %q is not declared in playerAttributes", name)
	}
	r.attr, r.attrType = name, t
	switch {
	case t == AttributeNumber, t == AttributeStringNumberMap:
	case t == AttributeString && r.Type == RuleAbsoluteSort:
	default:
		return errorf(f.at("sortAttribute"), "attribute %q is a %s; %s takes number or string_number_map attributes", name, t, r.Type)
	}
	if r.mapKey, err = f.enum("mapKey", "", "minValue", "maxValue"); err != nil {
		return err
	}
	if t == AttributeStringNumberMap && r.mapKey == "" {
		return errorf(f.at("mapKey"), "is required for the string_number_map attribute %q (minValue or maxValue)", name)
	}
	if t != AttributeStringNumberMap && r.mapKey != "" {
		return errorf(f.at("mapKey"), "only applies to string_number_map attributes")
	}
	return nil
}

// expandable lists the properties an expansion may target, per rule type.
var expandable = map[RuleType][]int{
	RuleComparison:    {propReferenceValue},
	RuleDistance:      {propMinDistance, propMaxDistance, propReferenceValue},
	RuleCollection:    {propMinCount, propMaxCount},
	RuleLatency:       {propMaxLatency, propMaxDistance},
	RuleBatchDistance: {propMaxDistance},
}

func (p *parser) expansions(root fields) error {
	list, err := root.array("expansions", false)
	if err != nil {
		return err
	}
	targets := map[string]bool{}
	for i, v := range list {
		path := fmt.Sprintf("expansions[%d]", i)
		f, err := asObject(v, path)
		if err != nil {
			return err
		}
		if err := f.only("target", "steps"); err != nil {
			return err
		}
		target, err := f.str("target", true)
		if err != nil {
			return err
		}
		e := Expansion{Target: target, team: -1}
		if err := p.target(&e, f.at("target")); err != nil {
			return err
		}
		if targets[target] {
			return errorf(f.at("target"), "%q is expanded twice", target)
		}
		targets[target] = true
		steps, err := f.array("steps", true)
		if err != nil {
			return err
		}
		if len(steps) == 0 {
			return errorf(f.at("steps"), "must hold at least one step")
		}
		for j, sv := range steps {
			sf, err := asObject(sv, fmt.Sprintf("%s.steps[%d]", path, j))
			if err != nil {
				return err
			}
			if err := sf.only("waitTimeSeconds", "value"); err != nil {
				return err
			}
			w, err := sf.number("waitTimeSeconds", true)
			if err != nil {
				return err
			}
			if w.v < 0 {
				return errorf(sf.at("waitTimeSeconds"), "must not be negative")
			}
			if j > 0 && w.v <= e.Steps[j-1].WaitTimeSeconds {
				return errorf(sf.at("waitTimeSeconds"), "%v is not after the previous step's %v (wait times are absolute and must increase)", w.v, e.Steps[j-1].WaitTimeSeconds)
			}
			val, err := sf.number("value", true)
			if err != nil {
				return err
			}
			if err := p.checkStepValue(&e, val.v, sf.at("value")); err != nil {
				return err
			}
			e.Steps = append(e.Steps, ExpansionStep{WaitTimeSeconds: w.v, Value: val.v})
		}
		p.rs.Expansions = append(p.rs.Expansions, e)
		if e.team < 0 {
			r := &p.rs.Rules[e.rule]
			if r.Type == RuleCollection && (e.prop == propMinCount && r.operation == "contains" || e.prop == propMaxCount && r.operation == "intersection") {
				r.deferred = true
			}
		}
	}
	p.propagateDeferred()
	return nil
}

// propagateDeferred marks compound rules deferred when they are not monotone or use a
// deferred rule.
func (p *parser) propagateDeferred() {
	for changed := true; changed; {
		changed = false
		for i := range p.rs.Rules {
			r := &p.rs.Rules[i]
			if r.Type != RuleCompound || r.deferred {
				continue
			}
			d := !r.statement.monotone()
			for _, n := range r.statement.ruleNames(nil) {
				d = d || p.rs.Rules[p.rs.ruleIndex[n]].deferred
			}
			if d {
				r.deferred, changed = true, true
			}
		}
	}
	for i := range p.rs.Rules {
		r := &p.rs.Rules[i]
		if r.Type == RuleCollection && (r.operation == "contains" && r.nums[propMinCount].set || r.operation == "intersection" && r.nums[propMaxCount].set) {
			r.deferred = true
		}
	}
	// Second pass: collection rules just marked may feed compounds.
	for changed := true; changed; {
		changed = false
		for i := range p.rs.Rules {
			r := &p.rs.Rules[i]
			if r.Type != RuleCompound || r.deferred {
				continue
			}
			for _, n := range r.statement.ruleNames(nil) {
				if p.rs.Rules[p.rs.ruleIndex[n]].deferred {
					r.deferred, changed = true, true
					break
				}
			}
		}
	}
}

// target resolves rules[Name].property or teams[Name].minPlayers|maxPlayers.
func (p *parser) target(e *Expansion, path string) error {
	t := strings.TrimSpace(e.Target)
	var kindName, inner, prop string
	if i := strings.IndexByte(t, '['); i > 0 {
		kindName = t[:i]
		rest := t[i+1:]
		j := strings.Index(rest, "].")
		if j < 0 {
			return errorf(path, "%q is not rules[name].property or teams[name].minPlayers|maxPlayers", e.Target)
		}
		inner, prop = strings.TrimSpace(rest[:j]), strings.TrimSpace(rest[j+2:])
	}
	switch kindName {
	case "rules":
		ri, ok := p.rs.ruleIndex[inner]
		if !ok {
			return errorf(path, "rule %q is not defined", inner)
		}
		r := &p.rs.Rules[ri]
		for _, k := range expandable[r.Type] {
			if propNames[k] == prop {
				if k == propReferenceValue && r.ref.kind != refNumber {
					return errorf(path, "rule %q's referenceValue is not a number, so it cannot be expanded", inner)
				}
				e.rule, e.prop = ri, k
				return nil
			}
		}
		var names []string
		for _, k := range expandable[r.Type] {
			names = append(names, propNames[k])
		}
		if len(names) == 0 {
			return errorf(path, "%s rule %q has no property an expansion can change", r.Type, inner)
		}
		return errorf(path, "%q is not a property an expansion can change on %s rule %q (want %s)", prop, r.Type, inner, strings.Join(names, ", "))
	case "teams":
		for di, td := range p.rs.Teams {
			if td.Name != inner {
				continue
			}
			switch prop {
			case "minPlayers":
				e.team = di
			case "maxPlayers":
				e.team, e.teamMax = di, true
			default:
				return errorf(path, "%q is not a team property an expansion can change (want minPlayers or maxPlayers)", prop)
			}
			return nil
		}
		return errorf(path, "team %q is not defined", inner)
	}
	return errorf(path, "%q is not rules[name].property or teams[name].minPlayers|maxPlayers", e.Target)
}

func (p *parser) checkStepValue(e *Expansion, v float64, path string) error {
	if e.team >= 0 {
		td := p.rs.Teams[e.team]
		if v != math.Trunc(v) || v < 0 {
			return errorf(path, "a team size must be a whole number of at least 0, not %v", v)
		}
		if !e.teamMax && int(v) > td.MaxPlayers {
			return errorf(path, "minPlayers %v is more than team %q's maxPlayers %d", v, td.Name, td.MaxPlayers)
		}
		if e.teamMax {
			if int(v) < td.MinPlayers || v < 1 {
				return errorf(path, "maxPlayers %v is less than team %q's minPlayers %d", v, td.Name, td.MinPlayers)
			}
			if int(v) > td.MaxPlayers {
				return errorf(path, "maxPlayers can only be lowered by an expansion (team %q holds %d)", td.Name, td.MaxPlayers)
			}
		}
		return nil
	}
	if v < 0 && e.prop != propReferenceValue {
		return errorf(path, "must not be negative")
	}
	return nil
}

package flexmatch

import (
	"fmt"
	"sort"
)

// MaxPlayersSmallMatch is the most players a small-match rule set can describe; beyond it
// FlexMatch treats the rule set as a large match.
const MaxPlayersSmallMatch = 40

// MaxPlayersPerMatch is the most players any rule set can describe.
const MaxPlayersPerMatch = 200

// RuleSet is a parsed and validated FlexMatch rule set. Build one with Parse; the zero
// value is not usable.
type RuleSet struct {
	Name       string
	Attributes []PlayerAttribute
	Algorithm  Algorithm
	Teams      []Team
	Rules      []Rule
	Expansions []Expansion

	// MaxPlayers is the sum of maxPlayers over every team (times quantity); Large is
	// MaxPlayers > MaxPlayersSmallMatch.
	MaxPlayers int
	Large      bool

	attrs     map[string]AttributeType
	attrIndex map[string]int
	teamNames map[string][]string // definition or numbered name -> team names
	slots     []teamSlot          // one per team in a match, in definition order
	ruleIndex map[string]int
	params    paramSteps
	usedAttrs map[string]bool // attributes some rule or the algorithm reads
	latency   []int           // indexes of latency rules
	batches   []int           // indexes of batchDistance rules
	sorts     []int           // indexes of sort rules, in order
}

// AttributeType is the type of a player attribute.
type AttributeType string

// The player attribute types.
const (
	AttributeString          AttributeType = "string"
	AttributeNumber          AttributeType = "number"
	AttributeStringList      AttributeType = "string_list"
	AttributeStringNumberMap AttributeType = "string_number_map"
)

// PlayerAttribute declares a player attribute. Default is nil when players must give it.
type PlayerAttribute struct {
	Name    string
	Type    AttributeType
	Default *AttributeValue
}

// Algorithm holds the rule set's algorithm settings, defaults filled in.
type Algorithm struct {
	Strategy              string   // "exhaustiveSearch" (default) or "balanced"
	BatchingPreference    string   // "random", "sorted", "largestPopulation", "fastestRegion"
	SortByAttributes      []string // with batchingPreference "sorted"
	BalancedAttribute     string   // with strategy "balanced"
	ExpansionAgeSelection string   // "oldest" (default) or "newest"
	BackfillPriority      string   // "normal" (default), "low", "high"
}

// Team is one team definition; Quantity copies of it are in every match, named Name when
// Quantity is 1 and Name_1, Name_2, ... otherwise.
type Team struct {
	Name       string
	MinPlayers int
	MaxPlayers int
	Quantity   int
}

// RuleType is the type of a rule.
type RuleType string

// The rule types.
const (
	RuleComparison    RuleType = "comparison"
	RuleDistance      RuleType = "distance"
	RuleCollection    RuleType = "collection"
	RuleLatency       RuleType = "latency"
	RuleBatchDistance RuleType = "batchDistance"
	RuleAbsoluteSort  RuleType = "absoluteSort"
	RuleDistanceSort  RuleType = "distanceSort"
	RuleCompound      RuleType = "compound"
)

// Rule is one parsed rule; its properties are compiled for the matcher.
type Rule struct {
	Name        string
	Description string
	Type        RuleType

	measurements []*expr
	ref          reference
	operation    string
	nums         [numProps]bound
	aggregation  string // partyAggregation, defaulted
	distanceRef  string // latency distanceReference
	attr         string // batchAttribute or sortAttribute
	attrType     AttributeType
	descending   bool
	mapKey       string
	statement    *statement

	deferred   bool // may fail on a partial match and pass once more players join
	inCompound bool // used by a compound rule: evaluated only through it
}

type reference struct {
	kind int // refNone, refNumber, refString, refStrings, refExpr
	str  string
	strs []string
	expr *expr
}

const (
	refNone = iota
	refNumber
	refString
	refStrings
	refExpr
)

// The numeric properties of a rule that expansions can change.
const (
	propMinDistance = iota
	propMaxDistance
	propReferenceValue
	propMinCount
	propMaxCount
	propMaxLatency
	numProps
)

var propNames = [numProps]string{"minDistance", "maxDistance", "referenceValue", "minCount", "maxCount", "maxLatency"}

type bound struct {
	set bool
	v   float64
}

// Expansion relaxes one value as tickets wait.
type Expansion struct {
	Target string
	Steps  []ExpansionStep

	rule, prop int // a rule property, or
	team       int // a team definition (-1 when rule)
	teamMax    bool
}

// ExpansionStep sets Value once the ticket selected by expansionAgeSelection has waited
// WaitTimeSeconds (absolute, not added to earlier steps).
type ExpansionStep struct {
	WaitTimeSeconds float64
	Value           float64
}

// teamSlot is one team of a match.
type teamSlot struct {
	name string
	def  int
}

// params are the values in force for one age: rule properties and team sizes.
type params struct {
	rules   [][numProps]bound
	teamMin []int // by team definition
	teamMax []int
}

// paramSteps holds the params for every step boundary: at[i] applies from ages[i-1] on.
type paramSteps struct {
	ages []float64
	at   []*params
}

func (ps *paramSteps) forAge(age float64) *params {
	i := sort.Search(len(ps.ages), func(i int) bool { return ps.ages[i] > age })
	return ps.at[i]
}

func (rs *RuleSet) buildParams() {
	base := &params{rules: make([][numProps]bound, len(rs.Rules))}
	for i, r := range rs.Rules {
		base.rules[i] = r.nums
	}
	for _, t := range rs.Teams {
		base.teamMin = append(base.teamMin, t.MinPlayers)
		base.teamMax = append(base.teamMax, t.MaxPlayers)
	}
	var ages []float64
	for _, e := range rs.Expansions {
		for _, s := range e.Steps {
			ages = append(ages, s.WaitTimeSeconds)
		}
	}
	sort.Float64s(ages)
	uniq := ages[:0]
	for i, a := range ages {
		if i == 0 || a != ages[i-1] {
			uniq = append(uniq, a)
		}
	}
	rs.params.ages = uniq
	rs.params.at = []*params{base}
	for _, age := range uniq {
		p := &params{
			rules:   append([][numProps]bound(nil), base.rules...),
			teamMin: append([]int(nil), base.teamMin...),
			teamMax: append([]int(nil), base.teamMax...),
		}
		for _, e := range rs.Expansions {
			for _, s := range e.Steps {
				if s.WaitTimeSeconds > age {
					break
				}
				switch {
				case e.team >= 0 && e.teamMax:
					p.teamMax[e.team] = int(s.Value)
				case e.team >= 0:
					p.teamMin[e.team] = int(s.Value)
				default:
					p.rules[e.rule][e.prop] = bound{true, s.Value}
				}
			}
		}
		rs.params.at = append(rs.params.at, p)
	}
}

// Error is a rule set that is not valid: Path says where, in the JSON path style of
// rules[2].maxDistance, and Message what is wrong.
type Error struct {
	Path    string
	Message string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Message
	}
	return e.Path + ": " + e.Message
}

func errorf(path, format string, args ...any) *Error {
	return &Error{Path: path, Message: fmt.Sprintf(format, args...)}
}

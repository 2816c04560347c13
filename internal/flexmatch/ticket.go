package flexmatch

import "time"

// Ticket is one matchmaking request: a player, or a party that stays together.
type Ticket struct {
	ID        string
	StartTime time.Time
	Players   []Player
}

// Player is one player of a ticket.
type Player struct {
	ID string
	// Team optionally asks for a team by name (a definition name, or a numbered name
	// when the definition has a quantity).
	Team       string
	Attributes map[string]AttributeValue
	// LatencyMs is the player's latency to each region, in milliseconds. Rule sets with
	// latency rules only match players that report it.
	LatencyMs map[string]int
}

// AttributeValue is a player attribute's value: Type says which field holds it.
type AttributeValue struct {
	Type AttributeType
	S    string
	N    float64
	SL   []string
	SDM  map[string]float64
}

// String, Number, StringList and StringNumberMap make attribute values.
func String(s string) AttributeValue { return AttributeValue{Type: AttributeString, S: s} }

// Number makes a number attribute value.
func Number(n float64) AttributeValue { return AttributeValue{Type: AttributeNumber, N: n} }

// StringList makes a string_list attribute value.
func StringList(s ...string) AttributeValue {
	return AttributeValue{Type: AttributeStringList, SL: s}
}

// StringNumberMap makes a string_number_map attribute value.
func StringNumberMap(m map[string]float64) AttributeValue {
	return AttributeValue{Type: AttributeStringNumberMap, SDM: m}
}

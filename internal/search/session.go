package search

import (
	"cmp"
	"strings"
)

// Session is what an expression can see of a game session.
type Session struct {
	// ID is the game session's ID (its ARN).
	ID string
	// Name is "" when the session has none (GameLift's names are never empty).
	Name               string
	Properties         map[string]string
	MaximumSessions    int64
	CreationTimeMillis int64
	PlayerSessionCount int64
}

// HasAvailablePlayerSessions reports whether the session has a free player slot.
func (s *Session) HasAvailablePlayerSessions() bool {
	return s.PlayerSessionCount < s.MaximumSessions
}

type attr int

// The attributes an expression names. attrCreationTime is the zero value, so the zero
// Order sorts by creation time.
const (
	attrCreationTime attr = iota
	attrID
	attrName
	attrProperty
	attrMaximumSessions
	attrPlayerSessionCount
	attrHasAvailable
)

var attrNames = map[string]attr{
	"gameSessionId":              attrID,
	"gameSessionName":            attrName,
	"maximumSessions":            attrMaximumSessions,
	"creationTimeMillis":         attrCreationTime,
	"playerSessionCount":         attrPlayerSessionCount,
	"hasAvailablePlayerSessions": attrHasAvailable,
}

const (
	propertiesPrefix = "gameSessionProperties"
	attrList         = "gameSessionId, gameSessionName, gameSessionProperties.<key>, maximumSessions, creationTimeMillis, playerSessionCount, hasAvailablePlayerSessions"
)

type kind int

const (
	kindString kind = iota
	kindNumber
	kindBool
)

func (k kind) String() string {
	switch k {
	case kindNumber:
		return "a number"
	case kindBool:
		return "true or false"
	}
	return "a quoted string"
}

// operand is an attribute, with its key for gameSessionProperties.<key>.
type operand struct {
	attr attr
	key  string
}

func (o operand) String() string {
	if o.attr == attrProperty {
		return propertiesPrefix + "." + o.key
	}
	for name, a := range attrNames {
		if a == o.attr {
			return name
		}
	}
	return "?"
}

func (o operand) kind() kind {
	switch o.attr {
	case attrMaximumSessions, attrCreationTime, attrPlayerSessionCount:
		return kindNumber
	case attrHasAvailable:
		return kindBool
	}
	return kindString
}

// value is a string, or a number (booleans are 0 and 1).
type value struct {
	str string
	num int64
}

// valueOf returns the operand's value in s; ok is false when s has none (no name, or not
// that property).
func (o operand) valueOf(s *Session) (v value, ok bool) {
	switch o.attr {
	case attrID:
		return value{str: s.ID}, true
	case attrName:
		return value{str: s.Name}, s.Name != ""
	case attrProperty:
		p, ok := s.Properties[o.key]
		return value{str: p}, ok
	case attrMaximumSessions:
		return value{num: s.MaximumSessions}, true
	case attrCreationTime:
		return value{num: s.CreationTimeMillis}, true
	case attrPlayerSessionCount:
		return value{num: s.PlayerSessionCount}, true
	case attrHasAvailable:
		if s.HasAvailablePlayerSessions() {
			return value{num: 1}, true
		}
		return value{num: 0}, true
	}
	return value{}, false
}

// compare orders two values of the operand's kind.
func (o operand) compare(a, b value) int {
	if o.kind() == kindString {
		return strings.Compare(a.str, b.str)
	}
	return cmp.Compare(a.num, b.num)
}

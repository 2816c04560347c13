package search

import "strconv"

// TermKind says what a Term constrains.
type TermKind int

// The kinds of Term.
const (
	TermID TermKind = iota
	TermName
	TermProperty
	TermAvailable // Value "true" or "false"
)

// Term is an equality a session may satisfy: its ID, name or one property has a value, or
// it has (or has not) a free player slot. A caller keeps, for each term, the sessions that
// satisfy it (TermsOf), and Narrow tells which of those sets a search need read.
type Term struct {
	Kind  TermKind
	Key   string // the property's key, for TermProperty
	Value string
}

// TermsOf lists the terms s satisfies, but for its ID (a caller finds sessions by ID
// already).
func TermsOf(s *Session) []Term {
	ts := make([]Term, 0, len(s.Properties)+2)
	if s.Name != "" {
		ts = append(ts, Term{Kind: TermName, Value: s.Name})
	}
	for k, v := range s.Properties {
		ts = append(ts, Term{Kind: TermProperty, Key: k, Value: v})
	}
	return append(ts, Term{Kind: TermAvailable, Value: strconv.FormatBool(s.HasAvailablePlayerSessions())})
}

// Narrow returns terms such that every session the filter matches satisfies at least one
// of them, choosing, among the ways the filter allows, the one with the fewest sessions
// to read by size (how many sessions satisfy a term). ok is false when the filter
// allows none (a nil filter, a range, a <> or a NOT over every branch): then every session
// must be read.
func (f *Filter) Narrow(size func(Term) int) (terms []Term, ok bool) {
	if f == nil || f.root == nil {
		return nil, false
	}
	terms, _, ok = f.root.narrow(size)
	return terms, ok
}

func (n *node) narrow(size func(Term) int) ([]Term, int, bool) {
	switch n.op {
	case opAnd:
		l, ln, lok := n.l.narrow(size)
		r, rn, rok := n.r.narrow(size)
		switch {
		case lok && (!rok || ln <= rn):
			return l, ln, true
		case rok:
			return r, rn, true
		}
		return nil, 0, false
	case opOr:
		l, ln, lok := n.l.narrow(size)
		r, rn, rok := n.r.narrow(size)
		if lok && rok {
			return append(l[:len(l):len(l)], r...), ln + rn, true
		}
		return nil, 0, false
	case opNot:
		return nil, 0, false
	}
	var t Term
	switch o := n.operand; {
	case o.attr == attrHasAvailable && (n.cmp == eq || n.cmp == ne):
		want := (n.value.num == 1) == (n.cmp == eq)
		t = Term{Kind: TermAvailable, Value: strconv.FormatBool(want)}
	case n.cmp != eq:
		return nil, 0, false
	case o.attr == attrID:
		t = Term{Kind: TermID, Value: n.value.str}
	case o.attr == attrName:
		t = Term{Kind: TermName, Value: n.value.str}
	case o.attr == attrProperty:
		t = Term{Kind: TermProperty, Key: o.key, Value: n.value.str}
	default:
		return nil, 0, false
	}
	return []Term{t}, size(t), true
}

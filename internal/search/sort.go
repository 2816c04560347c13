package search

import (
	"cmp"
	"strings"
)

// Order is a parsed SortExpression. The zero Order sorts by creationTimeMillis ascending.
// Sessions without the attribute (no name, or not that property) come after all others,
// in either direction; ties go oldest first, then by game session ID, so the order is
// total and pages of it are stable.
type Order struct {
	operand operand
	desc    bool
}

// ParseSort parses a SortExpression: an attribute, then ASC or DESC (in any case). The
// direction may be left out: ascending.
func ParseSort(expr string) (Order, error) {
	p := &parser{lex: lexer{src: expr}}
	if err := p.advance(); err != nil {
		return Order{}, err
	}
	o, err := p.operand("an attribute")
	if err != nil {
		return Order{}, err
	}
	if err := p.advance(); err != nil {
		return Order{}, err
	}
	ord := Order{operand: o}
	switch {
	case p.tok.kind == tokEOF:
		return ord, nil
	case p.tok.is("ASC"):
	case p.tok.is("DESC"):
		ord.desc = true
	default:
		return Order{}, p.errorf("expected ASC or DESC after %s, found %s", o, p.tok)
	}
	if err := p.advance(); err != nil {
		return Order{}, err
	}
	if p.tok.kind != tokEOF {
		return Order{}, p.errorf("expected the end of the expression after the direction, found %s", p.tok)
	}
	return ord, nil
}

func (o Order) String() string {
	if o.desc {
		return o.operand.String() + " DESC"
	}
	return o.operand.String() + " ASC"
}

// Cursor is a place in an Order: a session's sort key, creation time and ID. Sessions
// after it are the ones a next page holds.
type Cursor struct {
	// Null is true when the session had no value to sort by; then Str and Num are unset.
	Null    bool   `json:"n,omitempty"`
	Str     string `json:"s,omitempty"`
	Num     int64  `json:"v,omitempty"`
	Created int64  `json:"t,omitempty"`
	ID      string `json:"id"`
}

// CursorOf returns the place of s in the order.
func (o Order) CursorOf(s *Session) Cursor {
	v, ok := o.operand.valueOf(s)
	if !ok {
		return Cursor{Null: true, Created: s.CreationTimeMillis, ID: s.ID}
	}
	return Cursor{Str: v.str, Num: v.num, Created: s.CreationTimeMillis, ID: s.ID}
}

// Compare orders s against a place: negative when s comes before it, zero when s is the
// session it was taken from, positive when after.
func (o Order) Compare(s *Session, c Cursor) int {
	v, ok := o.operand.valueOf(s)
	switch {
	case !ok && !c.Null:
		return 1
	case ok && c.Null:
		return -1
	case ok:
		if r := o.operand.compare(v, value{str: c.Str, num: c.Num}); r != 0 {
			if o.desc {
				return -r
			}
			return r
		}
	}
	if r := cmp.Compare(s.CreationTimeMillis, c.Created); r != 0 {
		return r
	}
	return strings.Compare(s.ID, c.ID)
}

// Less reports whether a comes before b.
func (o Order) Less(a, b *Session) bool { return o.Compare(a, o.CursorOf(b)) < 0 }

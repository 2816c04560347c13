package search

import (
	"fmt"
	"strings"
)

// Filter is a parsed FilterExpression. A nil Filter matches every session.
type Filter struct {
	root *node
}

type comparator int

const (
	eq comparator = iota
	ne
	lt
	gt
	le
	ge
)

var comparators = map[string]comparator{"=": eq, "<>": ne, "<": lt, ">": gt, "<=": le, ">=": ge}

type nodeOp int

const (
	opCompare nodeOp = iota
	opNot
	opAnd
	opOr
)

type node struct {
	op   nodeOp
	l, r *node // opNot uses l

	// opCompare
	operand operand
	cmp     comparator
	value   value
}

// ParseFilter parses a FilterExpression:
//
//	expr      = or
//	or        = and { OR and }
//	and       = unary { AND unary }
//	unary     = NOT unary | "(" or ")" | condition
//	condition = operand comparator value
//
// so comparisons bind first, then parentheses, NOT, AND and OR, as GameLift documents.
// Keywords (AND, OR, NOT, true, false) are read in any case; attribute names as GameLift
// spells them. Strings, in single or double quotes, take = and <> only, as do booleans;
// numbers take every comparator.
func ParseFilter(expr string) (*Filter, error) {
	p := &parser{lex: lexer{src: expr}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	root, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		if p.tok.kind == tokRParen {
			return nil, p.errorf("')' closes no '('")
		}
		return nil, p.errorf("expected AND, OR or the end of the expression, found %s", p.tok)
	}
	return &Filter{root: root}, nil
}

// Match reports whether s satisfies the filter.
func (f *Filter) Match(s *Session) bool {
	if f == nil || f.root == nil {
		return true
	}
	return f.root.eval(s)
}

func (n *node) eval(s *Session) bool {
	switch n.op {
	case opNot:
		return !n.l.eval(s)
	case opAnd:
		return n.l.eval(s) && n.r.eval(s)
	case opOr:
		return n.l.eval(s) || n.r.eval(s)
	}
	v, ok := n.operand.valueOf(s)
	if !ok {
		// A session without the attribute (no name, or not that property) equals no
		// value, so it matches <> and nothing else.
		return n.cmp == ne
	}
	c := n.operand.compare(v, n.value)
	switch n.cmp {
	case eq:
		return c == 0
	case ne:
		return c != 0
	case lt:
		return c < 0
	case gt:
		return c > 0
	case le:
		return c <= 0
	}
	return c >= 0
}

type parser struct {
	lex lexer
	tok token
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) errorf(format string, args ...any) *SyntaxError {
	return p.lex.errorf(p.tok.pos, format, args...)
}

func (p *parser) or() (*node, error) {
	l, err := p.and()
	for err == nil && p.tok.is("OR") {
		var r *node
		if err = p.advance(); err == nil {
			if r, err = p.and(); err == nil {
				l = &node{op: opOr, l: l, r: r}
			}
		}
	}
	return l, err
}

func (p *parser) and() (*node, error) {
	l, err := p.unary()
	for err == nil && p.tok.is("AND") {
		var r *node
		if err = p.advance(); err == nil {
			if r, err = p.unary(); err == nil {
				l = &node{op: opAnd, l: l, r: r}
			}
		}
	}
	return l, err
}

func (p *parser) unary() (*node, error) {
	switch {
	case p.tok.is("NOT"):
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &node{op: opNot, l: x}, nil
	case p.tok.kind == tokLParen:
		open := p.tok
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tokRParen {
			return nil, p.errorf("expected AND, OR or ')' to close the '(' at column %d, found %s", p.lex.errorf(open.pos, "").Column, p.tok)
		}
		return x, p.advance()
	}
	return p.condition()
}

func (p *parser) condition() (*node, error) {
	o, err := p.operand("a condition (an attribute, NOT or '(')")
	if err != nil {
		return nil, err
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind != tokCompare {
		return nil, p.errorf("expected a comparator (=, <>, <, >, <=, >=) after %s, found %s", o, p.tok)
	}
	c := comparators[p.tok.text]
	k := o.kind()
	if k != kindNumber && c != eq && c != ne {
		return nil, p.errorf("%s compares with = or <> only, not %s", o, p.tok.text)
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	n := &node{op: opCompare, operand: o, cmp: c}
	switch t := p.tok; {
	case k == kindString && t.kind == tokString:
		n.value.str = t.val
	case k == kindNumber && t.kind == tokNumber:
		n.value.num = t.num
	case k == kindBool && (t.is("true") || t.is("false")):
		if t.is("true") {
			n.value.num = 1
		}
	default:
		return nil, p.errorf("%s compares with %s, found %s", o, k, t)
	}
	return n, p.advance()
}

// operand reads the attribute at the current token; want says what was expected there.
func (p *parser) operand(want string) (operand, error) {
	t := p.tok
	switch {
	case t.kind == tokProp:
		return operand{attr: attrProperty, key: t.val}, nil
	case t.kind != tokWord:
		return operand{}, p.errorf("expected %s, found %s", want, t)
	case t.text == propertiesPrefix:
		return operand{}, p.errorf("expected %s.<key>, found %s", propertiesPrefix, t)
	}
	a, ok := attrNames[t.text]
	if !ok {
		if t.is("AND") || t.is("OR") || t.is("NOT") || t.is("ASC") || t.is("DESC") {
			return operand{}, p.errorf("expected %s, found %s", want, t)
		}
		return operand{}, p.errorf("unknown attribute %s: expected one of %s", t, attrList)
	}
	return operand{attr: a}, nil
}

// quote writes s as the grammar reads it: in single quotes, with \ before ' and \.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// String is the filter in a normal form that parses back to it: fully parenthesized,
// keywords in capitals, strings in single quotes.
func (f *Filter) String() string {
	if f == nil || f.root == nil {
		return ""
	}
	return f.root.String()
}

func (n *node) String() string {
	switch n.op {
	case opNot:
		return "NOT " + n.l.String()
	case opAnd:
		return "(" + n.l.String() + " AND " + n.r.String() + ")"
	case opOr:
		return "(" + n.l.String() + " OR " + n.r.String() + ")"
	}
	var v string
	switch n.operand.kind() {
	case kindString:
		v = quote(n.value.str)
	case kindNumber:
		v = fmt.Sprint(n.value.num)
	default:
		v = fmt.Sprint(n.value.num == 1)
	}
	for s, c := range comparators {
		if c == n.cmp {
			return n.operand.String() + " " + s + " " + v
		}
	}
	return "?"
}

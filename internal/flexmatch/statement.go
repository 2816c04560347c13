package flexmatch

import (
	"fmt"
	"strings"
)

// A compound rule's statement combines other rules by name:
//
//	statement = op "(" statement {"," statement} ")" | ruleName
//	op        = and | or | xor | not
//
// and and or take two or more operands, xor exactly two, not exactly one.

type stmtOp int

const (
	stmtRule stmtOp = iota
	stmtAnd
	stmtOr
	stmtXor
	stmtNot
)

type statement struct {
	op   stmtOp
	rule string // stmtRule
	args []*statement
}

func parseStatement(s string) (*statement, error) {
	p := &stmtParser{src: s}
	st, err := p.parse()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos != len(p.src) {
		return nil, p.errorf("unexpected %q", p.src[p.pos:])
	}
	return st, nil
}

type stmtParser struct {
	src string
	pos int
}

func (p *stmtParser) errorf(format string, args ...any) error {
	return fmt.Errorf("statement %q at offset %d: %s", p.src, p.pos, fmt.Sprintf(format, args...))
}

func (p *stmtParser) space() {
	for p.pos < len(p.src) && strings.IndexByte(" \t\r\n", p.src[p.pos]) >= 0 {
		p.pos++
	}
}

func (p *stmtParser) name() string {
	p.space()
	start := p.pos
	for p.pos < len(p.src) && strings.IndexByte("(), \t\r\n", p.src[p.pos]) < 0 {
		p.pos++
	}
	return p.src[start:p.pos]
}

var stmtOps = map[string]stmtOp{"and": stmtAnd, "or": stmtOr, "xor": stmtXor, "not": stmtNot}

func (p *stmtParser) parse() (*statement, error) {
	name := p.name()
	if name == "" {
		if p.pos >= len(p.src) {
			return nil, p.errorf("expected a rule name or and/or/xor/not, found the end")
		}
		return nil, p.errorf("expected a rule name or and/or/xor/not")
	}
	p.space()
	op, isOp := stmtOps[name]
	if !isOp || p.pos >= len(p.src) || p.src[p.pos] != '(' {
		if isOp {
			return nil, p.errorf("%s needs operands in parentheses", name)
		}
		return &statement{op: stmtRule, rule: name}, nil
	}
	p.pos++
	st := &statement{op: op}
	for {
		arg, err := p.parse()
		if err != nil {
			return nil, err
		}
		st.args = append(st.args, arg)
		p.space()
		if p.pos < len(p.src) && p.src[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.pos < len(p.src) && p.src[p.pos] == ')' {
			p.pos++
			break
		}
		if p.pos >= len(p.src) {
			return nil, p.errorf("missing ')'")
		}
		return nil, p.errorf("expected ',' or ')'")
	}
	switch {
	case op == stmtNot && len(st.args) != 1:
		return nil, p.errorf("not takes one operand, got %d", len(st.args))
	case op == stmtXor && len(st.args) != 2:
		return nil, p.errorf("xor takes two operands, got %d", len(st.args))
	case (op == stmtAnd || op == stmtOr) && len(st.args) < 2:
		return nil, p.errorf("%s takes two or more operands, got %d", name, len(st.args))
	}
	return st, nil
}

// ruleNames lists the rule names the statement uses, in order.
func (s *statement) ruleNames(dst []string) []string {
	if s.op == stmtRule {
		return append(dst, s.rule)
	}
	for _, a := range s.args {
		dst = a.ruleNames(dst)
	}
	return dst
}

// monotone reports whether the statement only uses and/or: then, like its rules, once it
// fails on a partial match no further player makes it pass, so it can prune candidates.
func (s *statement) monotone() bool {
	switch s.op {
	case stmtRule:
		return true
	case stmtNot, stmtXor:
		return false
	}
	for _, a := range s.args {
		if !a.monotone() {
			return false
		}
	}
	return true
}

func (s *statement) eval(result func(rule string) bool) bool {
	switch s.op {
	case stmtRule:
		return result(s.rule)
	case stmtNot:
		return !s.args[0].eval(result)
	case stmtXor:
		return s.args[0].eval(result) != s.args[1].eval(result)
	case stmtAnd:
		for _, a := range s.args {
			if !a.eval(result) {
				return false
			}
		}
		return true
	default:
		for _, a := range s.args {
			if a.eval(result) {
				return true
			}
		}
		return false
	}
}

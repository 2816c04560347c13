package search

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// SyntaxError says where an expression broke and what was expected there.
type SyntaxError struct {
	// Offset is the byte offset of the problem in the expression; Column the same place
	// counted in characters from 1.
	Offset, Column int
	Msg            string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("at column %d: %s", e.Column, e.Msg) }

type tokKind int

const (
	tokEOF     tokKind = iota
	tokWord            // a name, a keyword, true or false
	tokProp            // gameSessionProperties.<key>; val is the key
	tokString          // val is the string, unescaped
	tokNumber          // num is the value
	tokCompare         // text is the comparator
	tokLParen
	tokRParen
)

type token struct {
	kind tokKind
	pos  int    // byte offset of its first character
	text string // as written
	val  string
	num  int64
}

func (t token) String() string {
	switch t.kind {
	case tokEOF:
		return "the end of the expression"
	case tokString:
		return "the string " + t.text
	case tokNumber:
		return "the number " + t.text
	}
	return "'" + t.text + "'"
}

// is reports whether t is the keyword kw, in any case.
func (t token) is(kw string) bool { return t.kind == tokWord && strings.EqualFold(t.text, kw) }

// lexer reads one token at a time, so an expression is reported broken at its first
// problem, wherever that is.
type lexer struct {
	src string
	pos int
}

func (l *lexer) errorf(pos int, format string, args ...any) *SyntaxError {
	return &SyntaxError{Offset: pos, Column: utf8.RuneCountInString(l.src[:pos]) + 1, Msg: fmt.Sprintf(format, args...)}
}

func isSpace(c byte) bool  { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// endsKey reports whether c ends a property key: keys run to a space, a comparator, a
// parenthesis or a quote.
func endsKey(c byte) bool { return isSpace(c) || strings.IndexByte("=<>!()'\"", c) >= 0 }

func (l *lexer) next() (token, error) {
	for l.pos < len(l.src) && isSpace(l.src[l.pos]) {
		l.pos++
	}
	start := l.pos
	if start == len(l.src) {
		return token{kind: tokEOF, pos: start}, nil
	}
	c := l.src[start]
	tok := func(k tokKind, end int) token {
		l.pos = end
		return token{kind: k, pos: start, text: l.src[start:end]}
	}
	switch {
	case c == '(':
		return tok(tokLParen, start+1), nil
	case c == ')':
		return tok(tokRParen, start+1), nil
	case c == '=':
		return tok(tokCompare, start+1), nil
	case c == '<' || c == '>':
		end := start + 1
		if end < len(l.src) && (l.src[end] == '=' || c == '<' && l.src[end] == '>') {
			end++
		}
		return tok(tokCompare, end), nil
	case c == '!':
		return token{}, l.errorf(start, "unexpected '!': not equal is <>")
	case c == '\'' || c == '"':
		return l.str(c)
	case isDigit(c) || c == '-' && start+1 < len(l.src) && isDigit(l.src[start+1]):
		return l.number()
	case isLetter(c):
		end := start + 1
		for end < len(l.src) && (isLetter(l.src[end]) || isDigit(l.src[end])) {
			end++
		}
		if l.src[start:end] == propertiesPrefix && end < len(l.src) && l.src[end] == '.' {
			return l.property(end + 1)
		}
		return tok(tokWord, end), nil
	}
	r, _ := utf8.DecodeRuneInString(l.src[start:])
	return token{}, l.errorf(start, "unexpected character %q", r)
}

// property reads the key of gameSessionProperties.<key>, which starts at keyStart.
func (l *lexer) property(keyStart int) (token, error) {
	start, end := l.pos, keyStart
	for end < len(l.src) && !endsKey(l.src[end]) {
		end++
	}
	key := l.src[keyStart:end]
	if key == "" {
		return token{}, l.errorf(keyStart, "expected a property key after %s.", propertiesPrefix)
	}
	if i := strings.IndexByte(key, '.'); i >= 0 {
		return token{}, l.errorf(keyStart+i, "property keys containing periods cannot be searched")
	}
	l.pos = end
	return token{kind: tokProp, pos: start, text: l.src[start:end], val: key}, nil
}

// str reads a string in single or double quotes; a backslash makes the next character
// part of the string, whatever it is (\' and \" for quotes, \\ for a backslash).
func (l *lexer) str(quote byte) (token, error) {
	start := l.pos
	var b strings.Builder
	for i := start + 1; i < len(l.src); i++ {
		switch c := l.src[i]; {
		case c == '\\' && i+1 < len(l.src):
			i++
			b.WriteByte(l.src[i])
		case c == '\\':
			// a backslash as the last character escapes nothing: unterminated
		case c == quote:
			l.pos = i + 1
			return token{kind: tokString, pos: start, text: l.src[start : i+1], val: b.String()}, nil
		default:
			b.WriteByte(c)
		}
	}
	return token{}, l.errorf(start, "unterminated string: no closing %c", quote)
}

// number reads an integer, optionally negative.
func (l *lexer) number() (token, error) {
	start, end := l.pos, l.pos+1
	for end < len(l.src) && isDigit(l.src[end]) {
		end++
	}
	if end < len(l.src) && (isLetter(l.src[end]) || l.src[end] == '.') {
		return token{}, l.errorf(start, "malformed number: numbers are whole, and a space separates them from words")
	}
	text := l.src[start:end]
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return token{}, l.errorf(start, "number %s is out of range", text)
	}
	l.pos = end
	return token{kind: tokNumber, pos: start, text: text, num: n}, nil
}

package search

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// ordered returns the names of all test sessions in the order's order.
func ordered(o Order) string {
	names := slices.Sorted(maps.Keys(sessions))
	slices.SortFunc(names, func(a, b string) int { return o.Compare(sessions[a], o.CursorOf(sessions[b])) })
	return strings.Join(names, "")
}

func TestSortOrders(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{"creationTimeMillis ASC", "abcd"},
		{"creationTimeMillis DESC", "dcba"},
		{"creationTimeMillis", "abcd"}, // ascending when no direction is given
		{"creationTimeMillis desc", "dcba"},
		{"  maximumSessions\tAsc ", "dbac"},
		{"maximumSessions DESC", "cabd"},
		{"playerSessionCount ASC", "cdab"},
		{"hasAvailablePlayerSessions ASC", "bacd"}, // false first, ties oldest first
		{"hasAvailablePlayerSessions DESC", "acdb"},
		{"gameSessionId DESC", "dcba"},
		// sessions without the attribute go last, in either direction
		{"gameSessionName ASC", "abdc"},
		{"gameSessionName DESC", "dbac"},
		{"gameSessionProperties.mode ASC", "acbd"},
		{"gameSessionProperties.mode DESC", "bacd"},
		{"gameSessionProperties.level ASC", "abcd"}, // "10" < "9": values are strings
		{"gameSessionProperties.nothing DESC", "abcd"},
	} {
		o, err := ParseSort(tc.expr)
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if got := ordered(o); got != tc.want {
			t.Errorf("%s (read as %s): %s, want %s", tc.expr, o, got, tc.want)
		}
	}
	if got := ordered(Order{}); got != "abcd" {
		t.Errorf("zero Order: %s, want creation order", got)
	}
}

// Ties go oldest first, then by ID: not by ID alone.
func TestSortTies(t *testing.T) {
	old := &Session{ID: "z", MaximumSessions: 4, CreationTimeMillis: 1}
	young := &Session{ID: "a", MaximumSessions: 4, CreationTimeMillis: 2}
	twin := &Session{ID: "b", MaximumSessions: 4, CreationTimeMillis: 2}
	o, err := ParseSort("maximumSessions DESC")
	if err != nil {
		t.Fatal(err)
	}
	if !o.Less(old, young) || !o.Less(young, twin) || o.Less(twin, old) {
		t.Error("ties are not ordered by creation time, then ID")
	}
	if o.Compare(twin, o.CursorOf(twin)) != 0 {
		t.Error("a session is not at its own place")
	}
}

func TestSortSyntaxErrors(t *testing.T) {
	for _, tc := range []struct {
		expr   string
		column int
		msg    string
	}{
		{"", 1, "expected an attribute, found the end"},
		{"ASC", 1, "expected an attribute, found 'ASC'"},
		{"creationTime ASC", 1, "unknown attribute 'creationTime'"},
		{"creationTimeMillis UP", 20, "expected ASC or DESC after creationTimeMillis, found 'UP'"},
		{"creationTimeMillis ASC DESC", 24, "expected the end of the expression"},
		{"creationTimeMillis ASC, gameSessionName ASC", 23, "unexpected character ','"},
		{"creationTimeMillis = 5", 20, "expected ASC or DESC"},
		{"(creationTimeMillis ASC)", 1, "expected an attribute, found '('"},
		{"gameSessionProperties ASC", 1, "expected gameSessionProperties.<key>"},
		{"gameSessionProperties.x.y ASC", 24, "periods"},
		{"'gameSessionName' ASC", 1, "expected an attribute, found the string 'gameSessionName'"},
	} {
		_, err := ParseSort(tc.expr)
		se, ok := err.(*SyntaxError)
		if !ok {
			t.Errorf("%q: got %v, want a syntax error", tc.expr, err)
			continue
		}
		if se.Column != tc.column || !strings.Contains(se.Error(), tc.msg) {
			t.Errorf("%q: got %q (column %d), want column %d and %q", tc.expr, se.Error(), se.Column, tc.column, tc.msg)
		}
	}
}

func TestSelectPages(t *testing.T) {
	all := slices.Values(slices.Collect(maps.Values(sessions)))
	f, err := ParseFilter("gameSessionProperties.mode <> 'ranked'")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sort  string
		pages []string
	}{
		{"creationTimeMillis DESC", []string{"dc", "a"}},
		{"gameSessionName ASC", []string{"ad", "c"}}, // c has no name: last
		{"gameSessionName DESC", []string{"da", "c"}},
		{"hasAvailablePlayerSessions ASC", []string{"ac", "d"}},
	} {
		o, err := ParseSort(tc.sort)
		if err != nil {
			t.Fatal(err)
		}
		var after *Cursor
		var got []string
		for {
			page, more := Select(all, f, o, after, 2)
			var names string
			for _, s := range page {
				names += strings.TrimPrefix(s.ID, "arn:gs/")
			}
			got = append(got, names)
			if !more {
				break
			}
			c := o.CursorOf(page[len(page)-1])
			after = &c
		}
		if !slices.Equal(got, tc.pages) {
			t.Errorf("%s: pages %q, want %q", tc.sort, got, tc.pages)
		}
	}
	if page, more := Select(all, nil, Order{}, nil, 10); len(page) != 4 || more {
		t.Errorf("no filter, a page of 10: %d sessions, more %v", len(page), more)
	}
	if page, more := Select(all, nil, Order{}, nil, 4); len(page) != 4 || more {
		t.Errorf("no filter, a page of exactly 4: %d sessions, more %v", len(page), more)
	}
}

package control

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/search"
)

// maxSearchResults is the most sessions a SearchGameSessions page holds, whatever Limit
// asks: GameLift's maximum.
const maxSearchResults = 20

// maxTokenLen is NextToken's maximum length in GameLift's model.
const maxTokenLen = 1024

// SearchGameSessions finds a fleet's ACTIVE game sessions (in one location, or all of
// them) that match a filter expression, in the order of a sort expression; in creation
// order without one. It reads the in-memory index of ACTIVE sessions, not the store.
func (s *Service) SearchGameSessions(ctx context.Context, in *gamelift.SearchGameSessionsInput) (*gamelift.SearchGameSessionsOutput, error) {
	f, err := s.targetFleet(ctx, in.FleetId, in.AliasId)
	if err != nil {
		return nil, err
	}
	fleetID := gamelift.Value(f.Attributes.FleetId)
	location := gamelift.Value(in.Location)
	if location != "" && locationOf(&f, location) == nil {
		return nil, gamelift.InvalidRequest("Location %s is not a location of fleet %s", location, fleetID)
	}
	var filter *search.Filter
	if in.FilterExpression != nil {
		if filter, err = search.ParseFilter(*in.FilterExpression); err != nil {
			return nil, gamelift.InvalidRequest("FilterExpression: %v", err)
		}
	}
	var order search.Order
	if in.SortExpression != nil {
		if order, err = search.ParseSort(*in.SortExpression); err != nil {
			return nil, gamelift.InvalidRequest("SortExpression: %v", err)
		}
	}
	limit := maxSearchResults
	if in.Limit != nil && int(*in.Limit) < limit {
		limit = int(*in.Limit)
	}
	query := searchQuery(fleetID, location, filter, order)
	var after *search.Cursor
	if in.NextToken != nil {
		c, err := s.decodeSearchToken(*in.NextToken, query, fleetID, order)
		if err != nil {
			return nil, err
		}
		after = &c
	}
	found, last, more := s.searchIndex.Search(fleetID, location, filter, order, after, limit)
	out := &gamelift.SearchGameSessionsOutput{GameSessions: nonNil(found)}
	if more {
		out.NextToken = gamelift.String(encodeSearchToken(query, last))
	}
	return out, nil
}

// searchToken is a SearchGameSessions NextToken: the place of the last session returned,
// and which search it pages (a hash of fleet, location, filter and sort), so a token
// given to another search is refused rather than misread.
type searchToken struct {
	Query  uint64        `json:"q"`
	Cursor search.Cursor `json:"c"`
	// ByID is set when the sort value was too long to carry: the next page looks the
	// session up to find its place.
	ByID bool `json:"i,omitempty"`
}

func searchQuery(fleetID, location string, f *search.Filter, o search.Order) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s", fleetID, location, f, o)
	return h.Sum64()
}

func encodeSearchToken(query uint64, c search.Cursor) string {
	enc := func(t searchToken) string {
		b, _ := json.Marshal(t)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	tok := enc(searchToken{Query: query, Cursor: c})
	if len(tok) > maxTokenLen { // a long name or property value: carry the ID only
		tok = enc(searchToken{Query: query, Cursor: search.Cursor{ID: c.ID}, ByID: true})
	}
	return tok
}

func (s *Service) decodeSearchToken(token string, query uint64, fleetID string, o search.Order) (search.Cursor, error) {
	var t searchToken
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || json.Unmarshal(b, &t) != nil {
		return search.Cursor{}, gamelift.InvalidRequest("Invalid NextToken")
	}
	if t.Query != query {
		return search.Cursor{}, gamelift.InvalidRequest("Invalid NextToken: it continues a search of another fleet, location, filter or sort")
	}
	if t.ByID {
		gs, ok := s.searchIndex.Lookup(fleetID, t.Cursor.ID)
		if !ok {
			return search.Cursor{}, gamelift.InvalidRequest("Invalid NextToken: the game session this page ended at is no longer ACTIVE; search again from the start")
		}
		return o.CursorOf(&gs), nil
	}
	return t.Cursor, nil
}

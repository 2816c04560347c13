// Package paging pages lists the way GameLift's list and describe calls do: a Limit, and
// a NextToken that says where the next page starts.
package paging

import (
	"strconv"
	"strings"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
)

// DefaultLimit is the page a call listing every resource of a kind answers when it gives
// no Limit.
const DefaultLimit = 100

// Limit is the page size asked for, or DefaultLimit when none is.
func Limit(limit *int32) *int32 {
	if limit == nil {
		return gamelift.Int32(DefaultLimit)
	}
	return limit
}

// Slice returns the page of all that limit and token ask for, and the token of the next
// page (nil on the last). A token not made here is InvalidRequestException.
func Slice[T any](all []T, limit *int32, token *string) ([]T, *string, error) {
	start := 0
	if t := gamelift.Value(token); t != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(t, "o"))
		if err != nil || !strings.HasPrefix(t, "o") || n < 0 || n > len(all) {
			return nil, nil, gamelift.InvalidRequest("Invalid NextToken")
		}
		start = n
	}
	end := len(all)
	if l := int(gamelift.Value(limit)); l > 0 && start+l < end {
		end = start + l
	}
	var next *string
	if end < len(all) {
		next = gamelift.String("o" + strconv.Itoa(end))
	}
	return all[start:end], next, nil
}

// NonNil makes an empty result list encode as [] rather than be left out, so clients that
// index the member find it.
func NonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Query is a store query for a request's paging members, under parent ("" for none).
func Query(parent string, limit *int32, token *string) store.Query {
	return store.Query{Parent: parent, Limit: int(gamelift.Value(limit)), Token: gamelift.Value(token)}
}

// Next is a store page's next token as a response's NextToken: nil on the last page.
func Next(token string) *string {
	if token == "" {
		return nil
	}
	return &token
}

package tags

import (
	"context"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
)

// Tags live in the record of the resource they label (store.Fleet.Tags and the like): a
// Create with Tags is one write, TagResource and UntagResource are one Update of that
// record, serialized with every other change to it, and the tags go when the resource does.
// Describe calls do not return them; only ListTagsForResource does, as in GameLift.

// Table is a table of taggable resources seen through their tags alone, which
// TagResource, UntagResource and ListTagsForResource reach by ARN.
type Table interface {
	// Tags returns the tags of the resource with that ID (what its ARN names after the
	// type); store.ErrNotFound if there is none, or it is gone.
	Tags(ctx context.Context, id string) ([]gamelift.Tag, error)
	// UpdateTags replaces the resource's tags with fn's result in one update of its
	// record; store.ErrNotFound as Tags does, and fn's error as is.
	UpdateTags(ctx context.Context, id string, fn func([]gamelift.Tag) ([]gamelift.Tag, error)) error
}

type recordTags[T any] struct {
	table  store.Table[T]
	tagsOf func(*T) *[]gamelift.Tag
	gone   func(*T) bool
}

// In makes a Table of a table whose records keep their tags where tagsOf points.
func In[T any](table store.Table[T], tagsOf func(*T) *[]gamelift.Tag) Table {
	return recordTags[T]{table: table, tagsOf: tagsOf}
}

// InUnless is In for a table that keeps records of resources that no longer exist, which
// gone tells: they have no tags to list or change.
func InUnless[T any](table store.Table[T], tagsOf func(*T) *[]gamelift.Tag, gone func(*T) bool) Table {
	return recordTags[T]{table: table, tagsOf: tagsOf, gone: gone}
}

func (r recordTags[T]) Tags(ctx context.Context, id string) ([]gamelift.Tag, error) {
	v, err := r.table.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.gone != nil && r.gone(&v) {
		return nil, store.ErrNotFound
	}
	return *r.tagsOf(&v), nil
}

func (r recordTags[T]) UpdateTags(ctx context.Context, id string, fn func([]gamelift.Tag) ([]gamelift.Tag, error)) error {
	_, err := r.table.Update(ctx, id, func(v *T) error {
		if r.gone != nil && r.gone(v) {
			return store.ErrNotFound
		}
		tags, err := fn(*r.tagsOf(v))
		if err != nil {
			return err
		}
		*r.tagsOf(v) = tags
		return nil
	})
	return err
}

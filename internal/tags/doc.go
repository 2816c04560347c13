// Package tags answers GameLift's tagging operations (TagResource, UntagResource and
// ListTagsForResource) for every taggable resource, whichever package owns it.
//
// It owns the registry of taggable kinds (Service.Add: an ARN resource type and the Table
// that reaches a record's tags), reading an ARN as a kind and an ID, and GameLift's tag
// rules (Create: at most 50 tags, no key with the prefix "aws:"). It owns no records: tags
// live in the record of the resource they label, and each owner registers its kinds (the
// core's Tagged, and queues', matchmaking's, containers' and buildsvc's).
//
// It sits below the core: it imports only the model (internal/gamelift), the store's
// Table and paging, and nothing that serves an operation, so internal/control and the
// packages above it may all import it, for Create on their Create calls with Tags and for
// In to describe their tables. internal/server makes the Service and adds every owner's
// kinds before it answers calls.
package tags

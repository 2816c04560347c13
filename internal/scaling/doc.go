// Package scaling answers GameLift's scaling policy operations (PutScalingPolicy,
// DescribeScalingPolicies, DeleteScalingPolicy) and runs the auto scaler that evaluates
// them once a minute.
//
// It owns the policies' evaluation state (how long each rule has held). The policies
// themselves are kept in their fleet's record, which the core (internal/control) owns: this
// package reads and edits fleets, measures them and records events only through the Core
// interface it declares, and it tells the core when a location's desired instances change.
package scaling

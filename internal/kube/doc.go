// Package kube is Hoist's Kubernetes engine: it runs container fleets' game server
// container groups as pods on a cluster the studio runs, and reports them to the service
// as computes.
//
// Kubernetes schedules, starts and restarts nothing on Hoist's behalf beyond one pod:
// Hoist decides how many pods a fleet has (its desired instances times its game server
// container groups per instance, plus one per-instance pod each), creates each with the
// Server SDK's settings and an auth token in a Secret of its own, watches them with an
// informer, replaces those that end, and drains (TerminateProcess, then delete) those it
// takes away on scale-in or rollout. It never takes away a pod whose game session is
// protected, unless a deployment says IGNORE_PROTECTION.
//
// An instance is a number, the gamelift.hoist.dev/instance label: its pods are its slots.
// Each pod's container ports are reached at host ports of the fleet's connection port
// range, a block of its own (instance i takes the i-th block of the range, slot j the
// j-th part of that), so no two pods of a fleet share a host port and any number of them
// fit on one node; the range bounds how many instances the fleet can have. A pod replacing
// one still in its termination grace period takes other free ports of the range, so it
// does not wait for that pod to go.
//
// A deleted pod whose containers still run is reported TERMINATING: its game server is
// asked to end and keeps its connection and auth token, so it can call ProcessEnding in
// its grace period; the pod is reported gone when it is, or when that grace has passed.
package kube

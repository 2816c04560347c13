package server

import (
	"context"
	"maps"
	"slices"
)

// AnsweredOperations lists the operations the server answers (routes.go), for tests.
func AnsweredOperations() []string { return slices.Sorted(maps.Keys(answered(services{}))) }

// UnsupportedOperations maps the operations refused with UnsupportedRegionException to
// why (unsupported.go), for tests.
func UnsupportedOperations() map[string]string { return maps.Clone(unsupported) }

// ScalingEvaluations tells how many times the server has evaluated scaling policies.
func (s *Server) ScalingEvaluations() int64 { return s.scaling.Evaluations() }

// LeadsEngine tells whether this replica runs the container engine.
func (s *Server) LeadsEngine() bool { return s.containers.LeadsEngine(context.Background()) }

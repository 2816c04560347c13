package gamelift

// String returns a pointer to s, for building shapes.
func String(s string) *string { return &s }

// Int32 returns a pointer to n.
func Int32(n int32) *int32 { return &n }

// Bool returns a pointer to b.
func Bool(b bool) *bool { return &b }

// Float32 returns a pointer to f.
func Float32(f float32) *float32 { return &f }

// Float64 returns a pointer to f.
func Float64(f float64) *float64 { return &f }

// Value returns what p points to, or the zero value when p is nil.
func Value[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

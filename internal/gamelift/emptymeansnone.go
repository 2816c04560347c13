package gamelift

// A few members the model gives a minimum length of 1 GameLift's service takes empty, to
// mean none: Terraform's AWS provider sends Description "" on every update of a fleet or
// an alias that has none. Validate lets them through empty; the operation then clears
// the member.

// emptyMeansNone is an input with such members.
type emptyMeansNone interface {
	emptyMeansNone() []**string
}

func (in *UpdateFleetAttributesInput) emptyMeansNone() []**string { return []**string{&in.Description} }

func (in *UpdateAliasInput) emptyMeansNone() []**string { return []**string{&in.Description} }

// skipEmpty hides the input's empty such members from validation until restore.
func skipEmpty(in Input) (restore func()) {
	e, ok := in.(emptyMeansNone)
	if !ok {
		return func() {}
	}
	var hidden []**string
	for _, m := range e.emptyMeansNone() {
		if *m != nil && **m == "" {
			hidden = append(hidden, m)
			*m = nil
		}
	}
	return func() {
		for _, m := range hidden {
			*m = String("")
		}
	}
}

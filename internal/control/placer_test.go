package control

import (
	"slices"
	"testing"
)

// heard records what the core tells its Placer.
type heard struct{ told []string }

func (h *heard) CapacityFreed() { h.told = append(h.told, "freed") }
func (h *heard) SessionActive(placementID, sessionID string) {
	h.told = append(h.told, "active "+placementID+" "+sessionID)
}
func (h *heard) SessionEnded(placementID string) { h.told = append(h.told, "ended "+placementID) }
func (h *heard) ReplicasStopped(ids []string)    { h.told = append(h.told, "stopped "+ids[0]) }
func (h *heard) Changed(kind, key string)        { h.told = append(h.told, "changed "+kind+" "+key) }

// What the Placer would have been told of sessions and replicas before it was set is told
// once it is, followed by word that changes may have been missed; freed capacity and
// others' changes are not kept for it. Once set, it is told at once.
func TestPlacerTold(t *testing.T) {
	s := &Service{}
	s.placementSessionActive("p1", "gs1")
	s.capacityFreed()
	s.changedElsewhere("queue", "q")
	s.placementSessionEnded("p2")
	s.tellPlacer(func(p Placer) { p.ReplicasStopped([]string{"r1"}) })
	h := &heard{}
	s.SetPlacer(h)
	s.capacityFreed()
	s.changedElsewhere("placement", "p3")
	s.placementSessionEnded("p4")
	want := []string{"active p1 gs1", "ended p2", "stopped r1", "changed  ", "freed", "changed placement p3", "ended p4"}
	if !slices.Equal(h.told, want) {
		t.Errorf("told %q, want %q", h.told, want)
	}
}

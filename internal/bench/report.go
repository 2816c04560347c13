package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"time"
)

// Print writes r for a person to read.
func (r *Report) Print(w io.Writer) {
	c := r.Config
	where := "in-process server (fresh data dir, durable SQLite store)"
	if c.Endpoint != "" {
		where = "server at " + c.Endpoint
	}
	sim := "in this process"
	if r.InChild {
		sim = "in a child process"
	}
	fmt.Fprintf(w, "hoist bench: %d processes on %d computes in %d fleet(s), %d sessions from %d clients\n", c.Procs, c.Computes, c.Fleets, c.Sessions, c.Clients)
	fmt.Fprintf(w, "  %s; simulated processes %s\n", where, sim)
	if r.ServerLimitMsg != "" {
		fmt.Fprintf(w, "  NOTE: %s\n", r.ServerLimitMsg)
	}

	fmt.Fprintf(w, "\nprocesses: %d of %d ready in %s (%d failed)\n", r.Ready, c.Procs, round(r.ConnectTime), r.Failed)
	if r.StopReason != "" {
		fmt.Fprintf(w, "  NOTE: stopped connecting at %d processes: %s\n", r.Ready, r.StopReason)
	}
	if r.Calls < c.Sessions {
		fmt.Fprintf(w, "  NOTE: creating %d sessions, not %d: one per ready process\n", r.Calls, c.Sessions)
	}
	if r.RSSAfter > 0 && r.Ready > 0 {
		who := "the server"
		if !r.InChild {
			who = "the server and the simulated processes together"
		}
		fmt.Fprintf(w, "memory of this process (%s), before -> after connecting and readying the processes:\n", who)
		fmt.Fprintf(w, "  RSS     %s -> %s: %s per connected idle process\n", mb(float64(r.RSSBefore)), mb(float64(r.RSSAfter)),
			kb(float64(r.RSSAfter-r.RSSBefore)/float64(r.Ready)))
		fmt.Fprintf(w, "  Go heap %s -> %s: %s per connected idle process\n", mb(float64(r.HeapBefore)), mb(float64(r.HeapAfter)),
			kb((float64(r.HeapAfter)-float64(r.HeapBefore))/float64(r.Ready)))
		if r.ChildRSS > 0 {
			fmt.Fprintf(w, "  (the simulator's RSS: %s, %s per process)\n", mb(float64(r.ChildRSS)), kb(float64(r.ChildRSS)/float64(r.Ready)))
		}
	}

	fmt.Fprintf(w, "\nCreateGameSession (AWS JSON 1.1, SigV4, %d clients): %d calls in %s\n", c.Clients, r.Calls, round(r.Elapsed))
	fmt.Fprintf(w, "  creates/s           %.0f (%d created)\n", r.Rate(), r.Created)
	fmt.Fprintf(w, "  API latency         %s\n", quantiles(r.Latency, true))
	fmt.Fprintf(w, "  create -> push      %s  (call start to the CreateGameSession push reaching the process)\n", quantiles(r.ToPush, false))
	fmt.Fprintf(w, "  create -> ACTIVE    %s  (call start to ActivateGameSession's 200 answer reaching the process)\n", quantiles(r.ToActive, false))
	fmt.Fprintf(w, "  sessions ACTIVE     %d of %d created\n", r.Active, r.Created)
	printErrors(w, r.Errors, r.ErrorEx)

	fmt.Fprintf(w, "\nno-op handler (reads the body, answers {}), same %d clients and %d signed bodies: %d calls in %s\n", c.Clients, r.NoopCalls, r.NoopCalls, round(r.NoopTime))
	fmt.Fprintf(w, "  calls/s             %.0f\n", r.NoopRate())
	if len(r.NoopErrors) > 0 {
		printErrors(w, r.NoopErrors, nil)
	}
	fmt.Fprintf(w, "\nHoist creates/s as a share of the no-op rate: %.3f\n", r.Ratio())
}

func printErrors(w io.Writer, counts map[string]int, examples map[string]string) {
	if len(counts) == 0 {
		fmt.Fprintln(w, "  errors              none")
		return
	}
	fmt.Fprintln(w, "  errors by type:")
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		fmt.Fprintf(w, "    %-40s %d", k, counts[k])
		if ex := examples[k]; ex != "" {
			fmt.Fprintf(w, "  e.g. %.160s", ex)
		}
		fmt.Fprintln(w)
	}
}

// quantiles formats p50, p90 (when wide), p99 and max of ds.
func quantiles(ds []time.Duration, wide bool) string {
	if len(ds) == 0 {
		return "(none)"
	}
	slices.Sort(ds)
	if wide {
		return fmt.Sprintf("p50 %s  p90 %s  p99 %s  max %s", ms(pct(ds, 0.50)), ms(pct(ds, 0.90)), ms(pct(ds, 0.99)), ms(ds[len(ds)-1]))
	}
	return fmt.Sprintf("p50 %s  p99 %s", ms(pct(ds, 0.50)), ms(pct(ds, 0.99)))
}

// pct is the q quantile of sorted ds (nearest rank).
func pct(ds []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(ds))+0.999999) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

func round(d time.Duration) time.Duration { return d.Round(time.Millisecond) }

func mb(b float64) string { return fmt.Sprintf("%.1f MB", b/1e6) }

func kb(b float64) string { return fmt.Sprintf("%.1f kB", b/1e3) }

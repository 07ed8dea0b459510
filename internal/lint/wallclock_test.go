package lint

import (
	"go/token"
	"strings"
	"testing"
)

// TestNoWallClockJudgementInTests: no test under networks/, node/ or cmd/
// judges by elapsed wall time; every clock use that only bounds or paces a
// wait says so with //wallclock:ok and its reason.
func TestNoWallClockJudgementInTests(t *testing.T) {
	found, err := CheckTree("../../networks", "../../node", "../../cmd")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		t.Errorf("%s", f)
	}
	if len(found) > 0 {
		t.Logf("wait on a height, an event or a result; a clock that only bounds a wait takes %s <reason> on its line or the line above", Marker)
	}
}

// TestCheckerFlags shows what the checker catches and what it lets through.
func TestCheckerFlags(t *testing.T) {
	for _, c := range []struct {
		name, body string
		want       []string // rules, in order of position
	}{
		{"sleep then assert", `
	time.Sleep(2 * time.Second)
	if n := count(); n != 0 { t.Fatalf("%d", n) }`, []string{RuleSleep}},
		{"sampling by a sleep in a loop", `
	hits := 0
	for i := 0; i < 40; i++ { if connected() { hits++ }; time.Sleep(250 * time.Millisecond) }
	if hits*4 > 40 { t.Fatal("stayed") }`, []string{RuleSleep}},
		{"elapsed compared", `
	start := time.Now()
	work()
	if time.Since(start) > 2*time.Second { t.Fatal("too slow") }`, []string{RuleElapsed}},
		{"elapsed via a variable", `
	start := time.Now()
	work()
	el := time.Since(start).Seconds()
	if el >= 5 { t.Fatal("too slow") }`, []string{RuleElapsed}},
		{"elapsed by Now().Sub", `
	t0 := time.Now()
	work()
	if time.Now().Sub(t0) < time.Second { t.Fatal("too fast") }`, []string{RuleElapsed}},
		{"testify assertion on a duration", `
	t0 := time.Now()
	work()
	require.Less(t, time.Since(t0), time.Second)`, []string{RuleElapsed}},
		{"unmarked deadline", `
	deadline := time.Now().Add(time.Minute)
	for !done() { if time.Now().After(deadline) { t.Fatal("timeout") } }`, []string{RuleDeadline}},
		{"timing only outside -short", `
	if !testing.Short() { limit = 10 * time.Second }`, []string{RuleShort}},
		{"silence taken as a pass", `
	select {
	case ev := <-events:
		t.Fatalf("unexpected %v", ev)
	case <-time.After(2 * time.Second):
		t.Log("nothing happened")
	}`, []string{RuleSilence}},
		{"a marker without a reason", `
	time.Sleep(time.Millisecond) //wallclock:ok
	_ = 1`, []string{RuleMarker}},

		// Let through:
		{"a marked poll", `
	for !done() {
		time.Sleep(100 * time.Millisecond) //wallclock:ok paces the poll of done()
	}`, nil},
		{"a marked deadline, marker on the line above", `
	deadline := time.Now().Add(time.Minute)
	for !done() {
		//wallclock:ok bounds the wait for done(); expiry fails as a timeout
		if time.Now().After(deadline) { t.Fatal("timeout") }
	}`, nil},
		{"a duration logged, not judged", `
	t0 := time.Now()
	work()
	t.Logf("took %s", time.Since(t0))
	lat = append(lat, time.Since(t0))
	if len(lat) > 0 { report(lat) }`, nil},
		{"a context timeout bounds a wait", `
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	waitHeight(ctx, 5)`, nil},
		{"time.After paces a poll or bounds a wait", `
	for !done() {
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	select {
	case <-exited:
	case <-time.After(time.Minute):
		t.Fatal("did not exit")
	}`, nil},
		{"testing.Short only skips", `
	if testing.Short() { t.Skip("starts a node") }`, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := "package x\n\nimport (\n\t\"testing\"\n\t\"time\"\n)\n\nfunc TestX(t *testing.T) {" + c.body + "\n}\n"
			found, err := CheckSource(token.NewFileSet(), "x_test.go", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range found {
				got = append(got, f.Rule)
			}
			if strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Fatalf("rules %v, want %v; findings %v\n%s", got, c.want, found, src)
			}
		})
	}
}

// TestCheckerFollowsImportName: a renamed time import is still the clock.
func TestCheckerFollowsImportName(t *testing.T) {
	src := "package x\n\nimport (\n\t\"testing\"\n\tclock \"time\"\n)\n\nfunc TestX(t *testing.T) {\n\tclock.Sleep(clock.Second)\n}\n"
	found, err := CheckSource(token.NewFileSet(), "x_test.go", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].Rule != RuleSleep {
		t.Fatalf("findings %v, want one sleep", found)
	}
}

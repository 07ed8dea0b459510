package main

import "testing"

func TestParseShareAndDuration(t *testing.T) {
	shares := map[string]int64{"50%": 5000, "12.5%": 1250, "100%": 10000, "0%": 0, "2500": 2500, "100.01%": -1, "101%": -1, "1.234%": -1, "half": -1}
	for in, want := range shares {
		got, err := parseShare(in)
		if (err != nil) != (want < 0) || (err == nil && int64(got) != want) {
			t.Errorf("parseShare(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	durations := map[string]int64{"7d": 7 * 86400, "36h": 36 * 3600, "90m": 5400, "45s": 45, "0": 0, "600": 600, "-1d": -1, "week": -1}
	for in, want := range durations {
		got, err := parseDuration(in)
		if (err != nil) != (want < 0) || (err == nil && got != want) {
			t.Errorf("parseDuration(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}

// TestCLIPrograms drives program-config, campaign create/end, a purchase
// with a bonus and pending points, and query campaigns / balance against
// a node process.
func TestCLIPrograms(t *testing.T) {
	home, _, _ := startSeller(t, t.TempDir(), 3600)
	h := []string{"--home", home}
	run := func(args ...string) map[string]any {
		t.Helper()
		r, code := cliJSON(t, append(args, h...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %v", args, code, r)
		}
		return r
	}
	run("tx", "program-config", "--min-redeem-points", "20", "--max-redeem-share", "50%", "--return-window", "7d")
	c := run("tx", "campaign", "create", "--name", "double", "--multiplier-bps", "20000", "--min-amount", "50.00", "--budget-points", "150")
	if c["campaign_id"] != float64(1) || c["campaign_status"] != "active" {
		t.Fatalf("create: %v", c)
	}
	p := run("tx", "purchase", "--customer", "C", "--amount", "100.00")
	if num(t, p, "base_points") != 100 || num(t, p, "bonus_points") != 100 || p["campaign"] != "double" || p["pending_until"] == nil {
		t.Fatalf("purchase: %v", p)
	}
	p = run("tx", "purchase", "--customer", "C", "--amount", "100.00")
	if num(t, p, "bonus_points") != 50 || p["no_bonus_reason"] == nil {
		t.Fatalf("second purchase: %v", p)
	}
	b := run("query", "balance", "--customer", "C")
	if num(t, b, "points") != 350 || num(t, b, "pending_points") != 350 || num(t, b, "available_points") != 0 {
		t.Fatalf("balance: %v", b)
	}
	q := run("query", "campaigns")
	list := q["campaigns"].([]any)
	if len(list) != 1 || num(t, list[0].(map[string]any), "spent_points") != 150 || num(t, q, "return_window_seconds") != 7*86400 {
		t.Fatalf("campaigns: %v", q)
	}
	// Pending points cannot be spent; the refusal says so.
	r, code := cliJSON(t, append([]string{"tx", "redeem", "--customer", "C", "--points", "20", "--bill", "100.00", "--cvm", "pin-online", "--read-type", "contact-emv"}, h...)...)
	if code == 0 || num(t, r, "code") != 8 {
		t.Fatalf("redeem of pending points: %v", r)
	}
	if e := run("tx", "campaign", "end", "--id", "1"); e["campaign_status"] != "ended" {
		t.Fatalf("end: %v", e)
	}
	if q := run("query", "campaigns"); len(q["campaigns"].([]any)) != 0 {
		t.Fatalf("after end: %v", q)
	}
	// Tiers: a coalition of one passes its own proposal.
	if p := run("tx", "propose", "set-tiers", "--tier", "silver=100.00", "--tier", "gold=300.00"); p["executed"] != true {
		t.Fatalf("set-tiers: %v", p)
	}
	b = run("query", "balance", "--customer", "C")
	if b["tier"] != "silver" || num(t, b, "tier_spend_paise") != 20_000 || b["next_tier"] != "gold" || num(t, b, "next_tier_needs_paise") != 10_000 {
		t.Fatalf("tier: %v", b)
	}
	run("tx", "campaign", "create", "--name", "gold", "--bonus-points", "7", "--tier", "gold", "--budget-points", "100")
	if p := run("tx", "purchase", "--customer", "C", "--amount", "100.00"); p["bonus_points"] != nil {
		t.Fatalf("silver purchase got a gold bonus: %v", p)
	}
	p = run("tx", "purchase", "--customer", "C", "--amount", "1.00")
	if num(t, p, "bonus_points") != 7 {
		t.Fatalf("gold purchase: %v", p)
	}
	// Referrals: C's code, given by a newcomer.
	run("tx", "referral-offer", "set", "--referrer-points", "30", "--referee-points", "20")
	n := run("tx", "purchase", "--customer", "N", "--amount", "10.00", "--referral-code", p["referral_code"].(string))
	if num(t, n, "referee_points") != 20 || num(t, n, "referrer_points") != 30 || num(t, n, "points_issued") != 30 {
		t.Fatalf("referral: %v", n)
	}
	r, code = cliJSON(t, append([]string{"tx", "purchase", "--customer", "N", "--amount", "10.00", "--referral-code", p["referral_code"].(string)}, h...)...)
	if code == 0 || num(t, r, "code") != 14 {
		t.Fatalf("second referral: %v", r)
	}
}

package crms

import (
	"math"
	"testing"
)

func TestChargeBudget(t *testing.T) {
	const budget = 10 * Nano
	cases := []struct {
		name             string
		used, risk, want int64
	}{
		{"adds within the budget", 1 * Nano, 2 * Nano, 3 * Nano},
		{"reaches the budget exactly", 8 * Nano, 2 * Nano, budget},
		{"saturates above the budget", 9 * Nano, 2 * Nano, budget},
		{"infinite risk exhausts the budget", 0, math.MaxInt64, budget},
		{"no risk changes nothing", 3 * Nano, 0, 3 * Nano},
		{"negative risk changes nothing", 3 * Nano, -5, 3 * Nano},
		{"a total above a lowered budget is kept", 12 * Nano, 1, 12 * Nano},
	}
	for _, c := range cases {
		if got := ChargeBudget(c.used, c.risk, budget); got != c.want {
			t.Errorf("%s: ChargeBudget(%d, %d, %d) = %d, want %d", c.name, c.used, c.risk, int64(budget), got, c.want)
		}
	}
}

// A skip that Decide allows is charged exactly: the saturation never bites.
func TestChargeBudgetExactForAllowedSkips(t *testing.T) {
	e, err := NewEngine(DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	used := int64(0)
	for i := 0; i < 5000; i++ {
		d := e.Decide(Nano, 5_000, 5_000_000, 0, used)
		if d.CVMRequired {
			if d.Reason != ReasonBudgetExhausted {
				t.Fatalf("payment %d refused for %s, want budget_exhausted", i, d.Reason)
			}
			if used+d.Risk <= e.Params().EpochRiskBudget {
				t.Fatalf("refused although %d + %d fits the budget", used, d.Risk)
			}
			return
		}
		next := ChargeBudget(used, d.Risk, e.Params().EpochRiskBudget)
		if next != used+d.Risk {
			t.Fatalf("allowed skip %d charged %d, want %d", i, next-used, d.Risk)
		}
		used = next
	}
	t.Fatal("the budget was never exhausted")
}

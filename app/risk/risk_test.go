package risk

import (
	"testing"

	"github.com/bytepoints/bytepoints/types"
	"github.com/stretchr/testify/require"
)

func TestCheckFlowAndPinVerified(t *testing.T) {
	flow := func(rt types.ReadType, cvm types.CVM, auth types.AuthResult) *types.PaymentFlow {
		return &types.PaymentFlow{ReadType: rt, Cvm: cvm, Auth: auth}
	}
	emv, ok, no := types.ReadType_READ_TYPE_CONTACT_EMV, types.AuthResult_AUTH_RESULT_APPROVED, types.AuthResult_AUTH_RESULT_DECLINED
	cases := []struct {
		name string
		f    *types.PaymentFlow
		code types.Code
		pin  bool
	}{
		{"no flow: valid, verified nothing", nil, types.CodeOK, false},
		{"PIN online approved", flow(emv, types.CVM_CVM_PIN_ONLINE_OK, ok), types.CodeOK, true},
		{"PIN offline approved", flow(emv, types.CVM_CVM_PIN_OFFLINE_OK, ok), types.CodeOK, true},
		{"PIN but declined", flow(emv, types.CVM_CVM_PIN_ONLINE_OK, no), types.CodeOK, false},
		{"signature", flow(emv, types.CVM_CVM_SIGNATURE, ok), types.CodeOK, false},
		{"aborted PIN declined", flow(emv, types.CVM_CVM_WRONG_PIN_ABORTED, no), types.CodeOK, false},
		{"aborted PIN approved: contradictory", flow(emv, types.CVM_CVM_WRONG_PIN_ABORTED, ok), types.CodeInvalidArgument, false},
		{"unknown read type", flow(4, types.CVM_CVM_PIN_ONLINE_OK, ok), types.CodeInvalidArgument, false},
		{"unspecified cvm", flow(emv, 0, ok), types.CodeInvalidArgument, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.code, types.CodeOf(CheckFlow(c.f)))
			require.Equal(t, c.pin, PinVerified(c.f))
		})
	}
}

func TestRiskMaxOfAndContext(t *testing.T) {
	p := DefaultParams()
	require.NoError(t, ValidateParams(p))
	got, def, clamped := RiskMaxOf(p, &types.SellerRecord{})
	require.Equal(t, p.DefaultRiskMaxNano, got)
	require.True(t, def)
	require.False(t, clamped)
	got, def, clamped = RiskMaxOf(p, &types.SellerRecord{RiskMaxNano: 7_000_000})
	require.Equal(t, int64(7_000_000), got)
	require.False(t, def)
	require.False(t, clamped)
	// Bounds that moved after the seller chose clamp its own value.
	for _, own := range []int64{p.MaxRiskMaxNano + 1, p.MinRiskMaxNano - 1} {
		got, def, clamped = RiskMaxOf(p, &types.SellerRecord{RiskMaxNano: own})
		require.Equal(t, min(max(own, p.MinRiskMaxNano), p.MaxRiskMaxNano), got)
		require.False(t, def)
		require.True(t, clamped)
	}
	for _, c := range []struct {
		ctx  int64
		code types.Code
	}{{0, types.CodeOK}, {p.ContextMinNano, types.CodeOK}, {p.ContextMaxNano, types.CodeOK},
		{p.ContextMinNano - 1, types.CodeInvalidArgument}, {p.ContextMaxNano + 1, types.CodeInvalidArgument}, {-1, types.CodeInvalidArgument}} {
		require.Equal(t, c.code, types.CodeOf(CheckContext(p, c.ctx)), "context %d", c.ctx)
	}
}

package members

import (
	"testing"

	"github.com/bytepoints/bytepoints/app/state"
	"github.com/bytepoints/bytepoints/app/store"
	"github.com/bytepoints/bytepoints/types"
	"github.com/stretchr/testify/require"
)

func pub(b byte) []byte {
	k := make([]byte, 32)
	k[0] = b
	return k
}

// authState holds seller-a (active: operator key 1, till-1 active with key
// 2, till-2 revoked with key 3), seller-b (active: operator key 4, its own
// till-1 with key 5) and seller-s (suspended: operator key 6).
func authState(t *testing.T) store.KV {
	kv := store.NewMemKV()
	add := func(id string, op byte, status types.SellerStatus) {
		require.NoError(t, AddSeller(kv, &types.SellerRecord{SellerId: id, OperatorPubkey: pub(op), ValidatorPubkey: pub(op + 100), Status: status}))
	}
	add("seller-a", 1, types.SellerStatus_SELLER_STATUS_ACTIVE)
	add("seller-b", 4, types.SellerStatus_SELLER_STATUS_ACTIVE)
	add("seller-s", 6, types.SellerStatus_SELLER_STATUS_SUSPENDED)
	c := &state.Ctx{KV: kv, Height: 1}
	require.NoError(t, RegisterTerminal(c, "seller-a", "till-1", pub(2)))
	require.NoError(t, RegisterTerminal(c, "seller-a", "till-2", pub(3)))
	require.NoError(t, RevokeTerminal(c, "seller-a", "till-2"))
	require.NoError(t, RegisterTerminal(c, "seller-b", "till-1", pub(5)))
	return kv
}

func TestAuthorizeTill(t *testing.T) {
	kv := authState(t)
	cases := []struct {
		name             string
		key              byte
		seller, terminal string
		wantSeller       string
		wantTerminal     string
		code             types.Code
	}{
		{"operator for the shop", 1, "", "", "seller-a", "", types.CodeOK},
		{"operator naming its seller", 1, "seller-a", "", "seller-a", "", types.CodeOK},
		{"operator naming an active terminal", 1, "", "till-1", "seller-a", "till-1", types.CodeOK},
		{"operator naming a revoked terminal", 1, "", "till-2", "", "", types.CodeUnauthorized},
		{"operator naming an unregistered terminal", 1, "", "till-9", "", "", types.CodeNotFound},
		{"operator naming a malformed terminal id", 1, "", "till/1", "", "", types.CodeInvalidArgument},
		{"operator acting for another seller", 1, "seller-b", "", "", "", types.CodeUnauthorized},
		{"terminal as itself", 2, "", "", "seller-a", "till-1", types.CodeOK},
		{"terminal naming itself", 2, "seller-a", "till-1", "seller-a", "till-1", types.CodeOK},
		{"terminal naming another terminal", 2, "", "till-2", "", "", types.CodeUnauthorized},
		{"terminal of A for seller B", 2, "seller-b", "", "", "", types.CodeUnauthorized},
		{"terminal of B naming A's till of the same id", 5, "seller-a", "till-1", "", "", types.CodeUnauthorized},
		{"suspended seller's operator", 6, "", "", "", "", types.CodeUnauthorized},
		{"malformed seller id", 1, "Seller A", "", "", "", types.CodeInvalidArgument},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Resolve(kv, pub(tc.key))
			require.NoError(t, err)
			till, err := AuthorizeTill(kv, s, tc.seller, tc.terminal)
			require.Equal(t, tc.code, types.CodeOf(err), "%v", err)
			if tc.code != types.CodeOK {
				return
			}
			require.Equal(t, tc.wantSeller, till.Seller.SellerId)
			require.Equal(t, tc.wantTerminal, till.Terminal)
		})
	}
}

func TestResolveRefusesRevokedAndUnknownKeys(t *testing.T) {
	kv := authState(t)
	for _, key := range []byte{3, 99} {
		_, err := Resolve(kv, pub(key))
		require.Equal(t, types.CodeUnknownSigner, types.CodeOf(err))
	}
}

func TestAuthorizeOperatorAndSettlement(t *testing.T) {
	kv := authState(t)
	cases := []struct {
		name           string
		key            byte
		seller         string
		operator, sett types.Code // AuthorizeOperator, AuthorizeSettlement
	}{
		{"operator", 1, "", types.CodeOK, types.CodeOK},
		{"operator naming itself", 1, "seller-a", types.CodeOK, types.CodeOK},
		{"operator for another seller", 1, "seller-b", types.CodeUnauthorized, types.CodeUnauthorized},
		{"terminal key", 2, "", types.CodeUnauthorized, types.CodeUnauthorized},
		{"suspended seller: no governance, but settles", 6, "", types.CodeUnauthorized, types.CodeOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Resolve(kv, pub(tc.key))
			require.NoError(t, err)
			got, err := AuthorizeOperator(s, tc.seller)
			require.Equal(t, tc.operator, types.CodeOf(err), "operator: %v", err)
			if err == nil {
				require.Equal(t, s.Seller.SellerId, got.SellerId)
			}
			got, err = AuthorizeSettlement(s, tc.seller)
			require.Equal(t, tc.sett, types.CodeOf(err), "settlement: %v", err)
			if err == nil {
				require.Equal(t, s.Seller.SellerId, got.SellerId)
			}
		})
	}
}

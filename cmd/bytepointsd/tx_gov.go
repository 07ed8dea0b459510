package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/node/client"
	"github.com/bytepoints/bytepoints/types"
	"github.com/cometbft/cometbft/lp2p"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cosmos/gogoproto/jsonpb"
	"github.com/spf13/cobra"
)

func newTxProposeCmd(g *globals, f *txFlags) *cobra.Command {
	var desc string
	cmd := &cobra.Command{
		Use:   "propose",
		Short: "Propose a governance action; it passes with more than 2/3 of active members",
		Long: `Members vote with equal weight. A proposal passes when more than two thirds of
the active members voted yes (the proposer's own yes counts), and executes in
the block that passes it. It lapses after the governed number of blocks.
The network never drops below the governed minimum of active validators (4).`,
	}
	cmd.PersistentFlags().StringVar(&desc, "description", "", "why (shown to voters)")
	propose := func(cmd *cobra.Command, m *types.MsgPropose) error {
		m.Description = desc
		f.from = node.OperatorKey
		return submit(cmd, g, f, m)
	}

	var cand candidateFlags
	add := &cobra.Command{
		Use:   "add-seller",
		Short: "Propose a new member; once passed it becomes a validator",
		Example: `  bytepointsd tx propose add-seller --home ./net/seller-0 --candidate-home ./net/seller-4
  bytepointsd tx propose add-seller --home H --seller-id shop-9 --operator-pubkey HEX --validator-pubkey HEX --node-id ID --peer-id PID --p2p-address 10.0.0.9:26656`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rec, err := cand.record()
			if err != nil {
				return err
			}
			return propose(cmd, &types.MsgPropose{Action: &types.MsgPropose_AddSeller{AddSeller: rec}})
		},
	}
	cand.register(add)
	simple := func(use, short string, mk func(string) *types.MsgPropose) *cobra.Command {
		return &cobra.Command{
			Use: use + " SELLER", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error { return propose(cmd, mk(args[0])) },
		}
	}
	remove := simple("remove-seller", "Propose removing a member: its validator power goes to 0 and its keys stop working",
		func(s string) *types.MsgPropose {
			return &types.MsgPropose{Action: &types.MsgPropose_RemoveSeller{RemoveSeller: s}}
		})
	suspend := simple("suspend-seller", "Propose suspending a member: power 0, its terminals stop, it may still vote on its reinstatement",
		func(s string) *types.MsgPropose {
			return &types.MsgPropose{Action: &types.MsgPropose_SuspendSeller{SuspendSeller: s}}
		})
	reinstate := simple("reinstate-seller", "Propose reinstating a suspended member",
		func(s string) *types.MsgPropose {
			return &types.MsgPropose{Action: &types.MsgPropose_ReinstateSeller{ReinstateSeller: s}}
		})
	var sets []string
	setParams := &cobra.Command{
		Use:   "set-params",
		Short: "Propose new chain parameters (changes applied to the current ones)",
		Example: `  bytepointsd tx propose set-params --home H --set epoch_seconds=3600 --set crms.default_risk_max_nano=10000000
  (names as printed by: bytepointsd query params -o json)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(sets) == 0 {
				return fmt.Errorf("give at least one --set name=value")
			}
			cl, err := dialSigner(cmd.Context(), g, nil)
			if err != nil {
				return err
			}
			q, err := cl.Query(cmd.Context(), "/params", false)
			if err != nil {
				return err
			}
			cur, err := client.Decode[types.Params](q)
			if err != nil {
				return err
			}
			next, err := applySets(cur, sets)
			if err != nil {
				return err
			}
			return propose(cmd, &types.MsgPropose{Action: &types.MsgPropose_SetParams{SetParams: next}})
		},
	}
	setParams.Flags().StringArrayVar(&sets, "set", nil, "name=value to change (repeatable); nested names use dots")
	cmd.AddCommand(add, remove, suspend, reinstate, setParams, newProposeSetTiersCmd(propose), newTxProposeApproveImportCmd(propose))
	cmd.AddCommand(newProposeUpgradeCmds(propose)...)
	return cmd
}

// applySets edits params through their protobuf JSON form.
func applySets(p *types.Params, sets []string) (*types.Params, error) {
	var buf bytes.Buffer
	if err := (&jsonpb.Marshaler{OrigName: true, EmitDefaults: true}).Marshal(&buf, p); err != nil {
		return nil, err
	}
	var m map[string]any
	dec := json.NewDecoder(&buf)
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	for _, s := range sets {
		name, val, ok := strings.Cut(s, "=")
		if !ok {
			return nil, fmt.Errorf("--set %q: want name=value", s)
		}
		path := strings.Split(name, ".")
		obj := m
		for _, part := range path[:len(path)-1] {
			sub, ok := obj[part].(map[string]any)
			if !ok {
				return nil, fmt.Errorf("--set %q: no parameter group %q", s, part)
			}
			obj = sub
		}
		last := path[len(path)-1]
		if _, ok := obj[last]; !ok {
			return nil, fmt.Errorf("--set %q: no parameter %q (see `query params -o json`)", s, name)
		}
		obj[last] = json.Number(val)
		if !isNumber(val) {
			obj[last] = val
		}
	}
	bz, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	out := &types.Params{}
	if err := jsonpb.Unmarshal(bytes.NewReader(bz), out); err != nil {
		return nil, fmt.Errorf("new parameters: %w", err)
	}
	return out, nil
}

func isNumber(s string) bool {
	var n json.Number
	return json.Unmarshal([]byte(s), &n) == nil
}

// candidateFlags describe a seller to add.
type candidateFlags struct {
	home, id, name, op, val, nodeID, peerID, addr string
}

func (c *candidateFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&c.home, "candidate-home", "", "read the candidate's keys and ids from its (local) home")
	cmd.Flags().StringVar(&c.id, "seller-id", "", "the new seller's id")
	cmd.Flags().StringVar(&c.name, "name", "", "display name")
	cmd.Flags().StringVar(&c.op, "operator-pubkey", "", "operator public key (hex)")
	cmd.Flags().StringVar(&c.val, "validator-pubkey", "", "validator public key (hex)")
	cmd.Flags().StringVar(&c.nodeID, "node-id", "", "CometBFT node id")
	cmd.Flags().StringVar(&c.peerID, "peer-id", "", "libp2p peer id")
	cmd.Flags().StringVar(&c.addr, "p2p-address", "", "host:port the node listens on")
}

func (c *candidateFlags) record() (*types.SellerRecord, error) {
	if c.home != "" {
		if err := c.fromHome(); err != nil {
			return nil, err
		}
	}
	op, err := hex.DecodeString(c.op)
	if err != nil {
		return nil, fmt.Errorf("--operator-pubkey: %w", err)
	}
	val, err := hex.DecodeString(c.val)
	if err != nil {
		return nil, fmt.Errorf("--validator-pubkey: %w", err)
	}
	return &types.SellerRecord{SellerId: c.id, Name: c.name, OperatorPubkey: op, ValidatorPubkey: val,
		NodeId: c.nodeID, PeerId: c.peerID, P2PAddress: c.addr}, nil
}

func (c *candidateFlags) fromHome() error {
	acfg, err := node.LoadAppConfig(c.home)
	if err != nil {
		return err
	}
	conf, err := node.LoadCometConfig(c.home)
	if err != nil {
		return err
	}
	op, err := node.LoadKey(c.home, node.OperatorKey)
	if err != nil {
		return err
	}
	pv := privval.LoadFilePVEmptyState(conf.PrivValidatorKeyFile(), filepath.Join(c.home, "data", "priv_validator_state.json"))
	nk, err := p2p.LoadNodeKey(conf.NodeKeyFile())
	if err != nil {
		return err
	}
	pid, err := lp2p.IDFromPrivateKey(nk.PrivKey)
	if err != nil {
		return err
	}
	if c.id == "" {
		c.id = acfg.SellerID
	}
	c.op = hex.EncodeToString(op.Public().(ed25519.PublicKey))
	c.val = hex.EncodeToString(pv.Key.PubKey.Bytes())
	c.nodeID, c.peerID = string(nk.ID()), pid.String()
	if c.addr == "" {
		c.addr = conf.P2P.ExternalAddress
	}
	return nil
}

func newTxVoteCmd(g *globals, f *txFlags) *cobra.Command {
	var id uint64
	var yes, no bool
	cmd := &cobra.Command{
		Use:     "vote",
		Short:   "Vote on an open proposal (operator key signs)",
		Example: "  bytepointsd tx vote --home ./net/seller-1 --proposal 1 --yes",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if yes == no {
				return fmt.Errorf("give exactly one of --yes or --no")
			}
			f.from = node.OperatorKey
			return submit(cmd, g, f, &types.MsgVote{ProposalId: id, Yes: yes})
		},
	}
	cmd.Flags().Uint64Var(&id, "proposal", 0, "proposal id (see `query proposals`)")
	cmd.Flags().BoolVar(&yes, "yes", false, "vote yes")
	cmd.Flags().BoolVar(&no, "no", false, "vote no")
	must(cmd.MarkFlagRequired("proposal"))
	return cmd
}

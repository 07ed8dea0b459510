//go:build network

package networks_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/bytepoints/bytepoints/internal/harness"
	"github.com/bytepoints/bytepoints/node"
	"github.com/bytepoints/bytepoints/types"
	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/crypto/ed25519"
	cmttypes "github.com/cometbft/cometbft/types"
)

// TestNetworkRemoteSigner: in a 4-validator network, seller-3's home holds
// no validator key; a separate signer process (CometBFT's privval
// SignerServer, as tmkms or Horcrux would be) holds it and signs over
// seller-3's priv_validator_laddr. seller-3's votes are in the commits;
// once the signer is killed they are not, and the other three go on
// committing (3 of 4 equal powers are more than 2/3).
func TestNetworkRemoteSigner(t *testing.T) {
	bin := binary(t)
	signerBin := filepath.Join(filepath.Dir(bin), "testsigner")
	if out, err := exec.Command("go", "build", "-o", signerBin, "github.com/bytepoints/bytepoints/internal/testsigner").CombinedOutput(); err != nil {
		t.Fatalf("build testsigner: %v\n%s", err, out)
	}
	plan, err := node.FreePortPlan(4)
	if err != nil {
		t.Fatal(err)
	}
	m, err := node.GenerateNetwork(node.NetworkOptions{Validators: 4, Output: filepath.Join(t.TempDir(), "net"),
		Transport: node.TransportTCP, Ports: plan, TimeoutCommit: 300 * time.Millisecond, Invariants: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	t.Cleanup(cancel)
	n := &net{t: t, bin: bin, m: m, procs: map[string]*harness.Process{}, gone: map[string]bool{}, ctx: ctx}

	// Move seller-3's validator key and sign state to the signer's directory.
	remote := n.home("seller-3")
	conf, err := node.LoadCometConfig(remote.Dir)
	if err != nil {
		t.Fatal(err)
	}
	signerDir := t.TempDir()
	keyFile, stateFile := filepath.Join(signerDir, "priv_validator_key.json"), filepath.Join(signerDir, "priv_validator_state.json")
	if err := os.Rename(conf.PrivValidatorKeyFile(), keyFile); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(conf.PrivValidatorStateFile(), stateFile); err != nil {
		t.Fatal(err)
	}
	ports, err := node.FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	laddr := fmt.Sprintf("tcp://127.0.0.1:%d", ports[0])
	conf.PrivValidatorListenAddr = laddr
	cmtcfg.WriteConfigFile(filepath.Join(remote.Dir, "config", "config.toml"), conf)

	signerLog, err := os.Create(filepath.Join(signerDir, "signer.log"))
	if err != nil {
		t.Fatal(err)
	}
	signer := exec.Command(signerBin, "--addr", laddr, "--chain-id", m.ChainID, "--key", keyFile, "--state", stateFile)
	signer.Stdout, signer.Stderr = signerLog, signerLog
	signer.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := signer.Start(); err != nil {
		t.Fatal(err)
	}
	signerDone := make(chan struct{})
	go func() { signer.Wait(); close(signerDone) }()
	killSigner := func() {
		select {
		case <-signerDone:
		default:
			signer.Process.Signal(syscall.SIGKILL)
			<-signerDone
		}
	}
	t.Cleanup(killSigner)
	t.Cleanup(func() {
		for _, p := range n.procs {
			p.Kill()
		}
		if t.Failed() {
			for s, p := range n.procs {
				log, _ := os.ReadFile(p.Log)
				t.Logf("---- %s log tail ----\n%s", s, tail(log))
			}
			log, _ := os.ReadFile(signerLog.Name())
			t.Logf("---- signer log tail ----\n%s", tail(log))
		}
	})
	for _, h := range m.Homes {
		n.start(h.SellerID)
	}
	for _, h := range m.Homes {
		n.waitHeight(h.SellerID, 2)
	}
	if _, err := os.Stat(conf.PrivValidatorKeyFile()); !os.IsNotExist(err) {
		t.Fatalf("seller-3's home has a validator key: %v", err)
	}

	pub, err := hex.DecodeString(remote.ValidatorPub)
	if err != nil {
		t.Fatal(err)
	}
	addr := ed25519.PubKey(pub).Address()
	rpc := n.client("seller-0").RPC
	// signed reports whether seller-3's precommit is in the commit of h.
	// A commit has one slot per validator, in the order of the validator
	// set of h; an absent vote's slot carries no address, so seller-3's
	// slot is found by its index in that set, not by address.
	signed := func(h int64) bool {
		page, per := 1, 100
		vals, err := rpc.Validators(ctx, &h, &page, &per)
		if err != nil {
			t.Fatalf("validators %d: %v", h, err)
		}
		idx := -1
		for i, v := range vals.Validators {
			if bytes.Equal(v.Address, addr) {
				idx = i
			}
		}
		if idx < 0 {
			t.Fatalf("seller-3 (%s) is not in the validator set of height %d", addr, h)
		}
		c, err := rpc.Commit(ctx, &h)
		if err != nil {
			t.Fatalf("commit %d: %v", h, err)
		}
		if len(c.Commit.Signatures) != len(vals.Validators) {
			t.Fatalf("commit %d has %d slots for %d validators", h, len(c.Commit.Signatures), len(vals.Validators))
		}
		s := c.Commit.Signatures[idx]
		if s.BlockIDFlag == cmttypes.BlockIDFlagCommit && !bytes.Equal(s.ValidatorAddress, addr) {
			t.Fatalf("commit %d: slot %d signed by %s, not seller-3 (%s)", h, idx, s.ValidatorAddress, addr)
		}
		return s.BlockIDFlag == cmttypes.BlockIDFlagCommit
	}
	// waitCommit waits for the commit of h (it is in block h+1).
	waitCommit := func(h int64) { n.waitHeight("seller-0", h+1) }

	// seller-3 signs through the remote signer: its precommit is in the
	// commits (it may miss the first ones while the signer connects).
	var first int64
	for h := int64(1); first == 0; h++ {
		if h > 40 {
			t.Fatal("seller-3's precommit is in none of the first 40 commits")
		}
		waitCommit(h)
		if signed(h) {
			first = h
		}
	}
	t.Logf("seller-3 signed the commit of height %d through the remote signer", first)

	killSigner()
	h0 := n.height("seller-0")
	// Without its signer, seller-3 casts no votes: after the signer dies
	// (at most one height in flight, plus CometBFT's retry of a sign
	// request), its precommits are absent; the network keeps committing.
	var absent int
	for h := h0 + 1; absent < 5; h++ {
		if h > h0+40 {
			t.Fatalf("seller-3 still signs commits after its signer was killed (heights %d..%d)", h0+1, h)
		}
		waitCommit(h)
		if signed(h) {
			absent = 0
		} else {
			absent++
		}
	}
	r := n.submit("seller-0", &types.MsgPurchase{CustomerId: "after-signer", AmountPaise: 10000, Flow: pin})
	if !r.OK() {
		t.Fatalf("purchase with three validators: %s", r.Log)
	}
	last := n.height("seller-0")
	for _, s := range []string{"seller-1", "seller-2"} {
		n.waitHeight(s, last)
	}
	n.agree(last, "seller-0", "seller-1", "seller-2")
}

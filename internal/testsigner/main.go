// Command testsigner is a remote validator signer for tests: it holds a
// CometBFT FilePV (key and last-sign state) and serves signatures to the
// node listening at --addr (the node's priv_validator_laddr), the way
// tmkms or Horcrux would, using CometBFT's own privval.SignerServer.
//
//	testsigner --addr tcp://127.0.0.1:26659 --chain-id C --key K.json --state S.json
//
// It dials the node (retrying until the node listens), reconnects when the
// connection drops, and runs until SIGINT/SIGTERM or SIGKILL.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/privval"
)

func main() {
	addr := flag.String("addr", "", "the node's priv_validator_laddr, tcp://host:port or unix://path")
	chainID := flag.String("chain-id", "", "chain id the signer signs for")
	keyFile := flag.String("key", "", "priv_validator_key.json")
	stateFile := flag.String("state", "", "priv_validator_state.json")
	flag.Parse()
	if *addr == "" || *chainID == "" || *keyFile == "" || *stateFile == "" {
		fmt.Fprintln(os.Stderr, "testsigner: --addr, --chain-id, --key and --state are required")
		os.Exit(2)
	}
	logger := log.NewTMLogger(log.NewSyncWriter(os.Stderr)).With("module", "testsigner")
	pv := privval.LoadFilePV(*keyFile, *stateFile)

	var dialer privval.SocketDialer
	proto, address := splitAddr(*addr)
	switch proto {
	case "tcp":
		// The connection is a SecretConnection authenticated by this
		// ephemeral key (tmkms and Horcrux use a configured one).
		dialer = privval.DialTCPFn(address, 3*time.Second, ed25519.GenPrivKey())
	case "unix":
		dialer = privval.DialUnixFn(address)
	default:
		fmt.Fprintf(os.Stderr, "testsigner: --addr %q: want tcp://host:port or unix://path\n", *addr)
		os.Exit(2)
	}
	ep := privval.NewSignerDialerEndpoint(logger, dialer,
		privval.SignerDialerEndpointRetryWaitInterval(100*time.Millisecond),
		privval.SignerDialerEndpointConnRetries(600))
	ss := privval.NewSignerServer(ep, *chainID, pv)
	if err := ss.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "testsigner:", err)
		os.Exit(1)
	}
	logger.Info("signing", "addr", *addr, "validator", pv.GetAddress().String())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	_ = ss.Stop()
}

func splitAddr(a string) (string, string) {
	for _, p := range []string{"tcp", "unix"} {
		if len(a) > len(p)+3 && a[:len(p)+3] == p+"://" {
			return p, a[len(p)+3:]
		}
	}
	return "", a
}

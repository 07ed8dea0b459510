package node

import "time"

// PeerPolicy keeps only active members' nodes connected (SPEC §7). With
// CometBFT's TCP transport the switch already asks the application about
// every new peer (filter_peers, answered by the app's /p2p/filter/ query);
// the libp2p transport has no such hook, so this sweeper disconnects any
// connected peer whose id is not an active member's, on both transports,
// and keeps doing so as membership changes by governance.
type PeerPolicy struct {
	n      *Node
	every  time.Duration
	stop   chan struct{}
	done   chan struct{}
	height int64
	allow  map[string]bool
}

// NewPeerPolicy builds the policy for n.
func NewPeerPolicy(n *Node) *PeerPolicy {
	return &PeerPolicy{n: n, every: 50 * time.Millisecond, stop: make(chan struct{}), done: make(chan struct{})}
}

// Start runs the sweeper.
func (p *PeerPolicy) Start() {
	go func() {
		defer close(p.done)
		t := time.NewTicker(p.every)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.sweep()
			}
		}
	}()
}

// Stop ends the sweeper.
func (p *PeerPolicy) Stop() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
		<-p.done
	}
}

// members returns the ids (CometBFT node ids and libp2p peer ids) of the
// active members at the last commit; nil before the chain has state.
func (p *PeerPolicy) members() map[string]bool {
	if h, _ := p.n.App.Info(); h == 0 {
		return nil
	} else if h == p.height && p.allow != nil {
		return p.allow
	}
	height, active := p.n.App.ActiveMembers()
	allow := map[string]bool{}
	for _, s := range active {
		if s.NodeId != "" {
			allow[s.NodeId] = true
		}
		if s.PeerId != "" {
			allow[s.PeerId] = true
		}
	}
	p.height, p.allow = height, allow
	return allow
}

func (p *PeerPolicy) sweep() {
	sw := p.n.Comet.Switch()
	if sw == nil || !p.n.Comet.IsRunning() {
		return
	}
	allow := p.members()
	if allow == nil {
		return // before the first block every genesis peer is needed
	}
	for _, peer := range sw.Peers().Copy() {
		if !allow[string(peer.ID())] {
			p.n.Logger.Info("disconnecting a peer that is not an active member's node", "peer", peer.ID())
			sw.StopPeerForError(peer, "not an active member of the coalition")
		}
	}
}

package node

// PeerPolicy keeps only active members' nodes connected.
type PeerPolicy struct{ n *Node }

func NewPeerPolicy(n *Node) *PeerPolicy { return &PeerPolicy{n: n} }
func (p *PeerPolicy) Start()            {}
func (p *PeerPolicy) Stop()             {}

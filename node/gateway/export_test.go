package gateway

import "github.com/bytepoints/bytepoints/types"

// TamperIntent rewrites an open intent's body after it was made (what a
// till or gateway changing the points or bill after the wallet read them
// would do), and its summary to match: a signature over the bytes the
// wallet saw must then be refused.
func (s *Server) TamperIntent(id string, edit func(*types.MsgRedeem)) error {
	t := s.intents
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.m[id]
	var b types.TxBody
	if err := b.Unmarshal(r.Body); err != nil {
		return err
	}
	m := b.GetRedeem()
	edit(m)
	bz, err := b.Marshal()
	if err != nil {
		return err
	}
	r.Body, r.Points, r.BillPaise = bz, m.Points, m.BillPaise
	return nil
}

// CosignOnly does what the signature route does up to the broadcast (the
// gateway stopping between the two).
func (s *Server) CosignOnly(id string, sig []byte) error {
	if _, _, e := s.cosign(id, sig); e != nil {
		return e
	}
	return nil
}

// TamperSummary changes what an intent's answer says it is for, not its
// bytes: a wallet that showed the summary would show the lie.
func (s *Server) TamperSummary(id string, points, billPaise uint64) {
	t := s.intents
	t.mu.Lock()
	defer t.mu.Unlock()
	t.m[id].Points, t.m[id].BillPaise = points, billPaise
}

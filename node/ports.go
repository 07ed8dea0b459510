package node

import (
	"fmt"
	"net"
)

// FreePorts finds n distinct ports free for both TCP and UDP on 127.0.0.1
// (QUIC needs the UDP one). There is an unavoidable race with other
// processes between this check and the node binding the port.
func FreePorts(n int) ([]int, error) {
	var out []int
	var held []net.Listener
	var heldUDP []net.PacketConn
	defer func() {
		for _, l := range held {
			l.Close()
		}
		for _, c := range heldUDP {
			c.Close()
		}
	}()
	for tries := 0; len(out) < n && tries < n*20; tries++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			l.Close()
			continue
		}
		held = append(held, l)
		heldUDP = append(heldUDP, u)
		out = append(out, port)
	}
	if len(out) < n {
		return nil, fmt.Errorf("could not find %d free ports", n)
	}
	return out, nil
}

// FreePortPlan returns a Ports plan for count nodes using free ports.
func FreePortPlan(count int) (func(i int) Ports, error) {
	ps, err := FreePorts(4 * count)
	if err != nil {
		return nil, err
	}
	return func(i int) Ports { return Ports{ps[4*i], ps[4*i+1], ps[4*i+2], ps[4*i+3]} }, nil
}

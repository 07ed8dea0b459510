// Package members owns who may act: the coalition's sellers (operators,
// validator keys, node ids, status), their terminals, the index from a
// signing key to its holder, and the authorisation rules that tie a
// message's seller and terminal to the key that signed it.
package members

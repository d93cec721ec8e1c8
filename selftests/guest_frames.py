#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Frame tools for the vnet-guest selftests (no scapy needed).

  probe IFACE DST_MAC N [VID]   send N marked frames out of IFACE (optionally
                                802.1Q tagged) and print how many came back
  flows IFACE DST_MAC N [PAD]   send N flows each of IPv4/IPv6 x TCP/UDP (the
                                UDP ones with PAD bytes of payload, 16)
  udp-flows ADDR PORT N K [SIZE]
                                K datagrams (SIZE bytes, 32) from each of N
                                UDP sockets (N flows) to ADDR:PORT; prints
                                the datagrams sent
  tcp-server ADDR PORT          accept one connection, print sha256 and bytes
  tcp-client ADDR PORT BYTES [RATE]
                                send BYTES random bytes (RATE bytes/s at
                                most), print their sha256
  blast IFACE DST_MAC SECONDS   send frames (about 2000/s) until SECONDS
                                passed, print how many the kernel took
  mark-send IFACE DST_MAC TAG N [VID]
                                send N frames (EtherType 0x88b5, optionally
                                802.1Q tagged) carrying the text TAG and a
                                sequence number
  spoof-send IFACE SRC_MAC TAG N [FENCE]
                                send N marked broadcast frames out of IFACE
                                with SRC_MAC as the source (not the iface's),
                                then one carrying FENCE from the iface's MAC
  mark-count IFACE TAG SECONDS [FENCE]
                                count the distinct frames carrying TAG that
                                IFACE receives; prints the count (prints
                                "ready" on stderr once listening). Without
                                FENCE: within SECONDS. With FENCE: until a
                                frame carrying FENCE arrives (sent after the
                                counted ones, on the same path, it says
                                they all had their chance), SECONDS at most
                                (then exit 3: the fence never came)
  raw-send IFACE HEX            send one frame given in hex, as is (cut ones too)
  udp-gso-send ADDR PORT SENDS SEGS SEGSIZE
                                SENDS UDP GSO sends (UDP_SEGMENT) of SEGS
                                datagrams of SEGSIZE bytes each, numbered,
                                their bytes derived from the number
  udp-count ADDR PORT SECONDS   receive such datagrams for SECONDS (or until
                                2 s quiet); prints "GOOD BAD" (BAD: a payload
                                that is not what its number says); "ready"
                                on stderr once bound
  rarp-count IFACE MAC SECONDS [FENCE]
                                count the RARP requests from MAC that IFACE
                                receives, like mark-count
  fake-backend SOCKET MODE      a vhost-user back-end that misbehaves:
                                silent (never answers), wrong-code (answers
                                GET_FEATURES with request 99), stall (answers
                                GET_FEATURES, never GET_PROTOCOL_FEATURES);
                                appends one line per connection to SOCKET.log
  stuck-vnetd SOCKET            a control socket like vnetd's that acks the
                                client's socket options (VNET_NLMSG_SOCKOPT)
                                and never answers anything else: a daemon
                                that hangs
"""
import hashlib
import os
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def mac_bytes(s):
    return bytes(int(x, 16) for x in s.split(':'))


def if_mac(iface):
    with open(f'/sys/class/net/{iface}/address') as f:
        return mac_bytes(f.read().strip())


def tx_socket(iface):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    return s


def probe(iface, dst, n, vid=None):
    rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    rx.bind((iface, 0))
    rx.settimeout(0.05)
    tx = tx_socket(iface)
    nonce = os.urandom(8)
    l2 = mac_bytes(dst) + if_mac(iface)
    if vid is not None:
        l2 += struct.pack('!HH', 0x8100, vid)
    for i in range(n):
        tx.send(l2 + struct.pack('!H', 0x88b5) + nonce + struct.pack('!I', i) + bytes(40))
    seen = set()
    deadline = time.time() + 0.5
    while time.time() < deadline:
        try:
            data, addr = rx.recvfrom(2048)
        except socket.timeout:
            continue
        if addr[2] == PACKET_OUTGOING:
            continue
        k = data.find(nonce)
        if k >= 0:
            seen.add(data[k + 8:k + 12])
    print(len(seen))


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack(f'!{len(b) // 2}H', b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def flows(iface, dst, n, pad=16):
    tx = tx_socket(iface)
    l2 = mac_bytes(dst) + if_mac(iface)
    for i in range(n):
        sport, dport = 10000 + i * 7, 20000 + i * 13
        for proto in (6, 17):
            if proto == 6:
                l4 = struct.pack('!HHIIBBHHH', sport, dport, i, 0, 5 << 4, 0x02, 1024, 0, 0)
            else:
                l4 = struct.pack('!HHHH', sport, dport, 8 + pad, 0) + bytes(pad)
            src4 = bytes([198, 18, i >> 8 & 0xff, i & 0xff])
            dst4 = bytes([198, 19, 0, 1 + i % 200])
            ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(l4), i, 0, 64, proto, 0,
                             src4, dst4)
            ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
            tx.send(l2 + b'\x08\x00' + ip + l4)
            src6 = bytes.fromhex('20010db8000000000000000000') + bytes([0, i >> 8 & 0xff, i & 0xff])
            dst6 = bytes.fromhex('20010db8000100000000000000000001')
            ip6 = struct.pack('!IHBB16s16s', 6 << 28 | i, len(l4), proto, 64, src6, dst6)
            tx.send(l2 + b'\x86\xdd' + ip6 + l4)


def udp_flows(addr, port, n, k, size=32):
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(n)]
    sent = 0
    for _ in range(k):
        for s in socks:
            sent += s.sendto(bytes(size), (addr, port)) == size
    print(sent, flush=True)


def mark_send(iface, dst, tag, n, vid=None, src=None):
    tx = tx_socket(iface)
    l2 = mac_bytes(dst) + (mac_bytes(src) if src else if_mac(iface))
    if vid is not None:
        l2 += struct.pack('!HH', 0x8100, vid)
    l2 += struct.pack('!H', 0x88b5)
    for i in range(n):
        tx.send(l2 + tag.encode() + struct.pack('!I', i) + bytes(40))
        time.sleep(0.01)


FENCE_MISSED = 3


class Listener:
    """Frames IFACE receives (not sends) for at most SECS seconds, or until
    one carrying FENCE arrives (self.fenced); says "ready" on stderr once
    listening."""

    def __init__(self, iface, secs, fence=None):
        self.rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.rx.bind((iface, 0))
        self.rx.settimeout(0.05)
        self.deadline = time.monotonic() + secs
        self.fence = fence.encode() if fence else None
        self.fenced = False
        print('ready', file=sys.stderr, flush=True)

    def __iter__(self):
        while time.monotonic() < self.deadline:
            try:
                data, addr = self.rx.recvfrom(4096)
            except socket.timeout:
                continue
            if addr[2] == PACKET_OUTGOING:
                continue
            if self.fence and self.fence in data:
                self.fenced = True
                return
            yield data

    def status(self):
        """The exit status: a fence asked for and never seen is a failure."""
        return FENCE_MISSED if self.fence and not self.fenced else 0


def mark_count(iface, tag, secs, fence=None):
    t, seen = tag.encode(), set()
    frames = Listener(iface, secs, fence)
    for data in frames:
        k = data.find(t)
        if k >= 0:
            seen.add(data[k + len(t):k + len(t) + 4])
    print(len(seen), flush=True)
    return frames.status()


def rarp_count(iface, mac, secs, fence=None):
    want, n = bytes.fromhex(mac.replace(':', '')), 0
    frames = Listener(iface, secs, fence)
    for data in frames:
        # EtherType 0x8035, opcode 3 (request reverse), sender hw address
        if (len(data) >= 42 and data[12:14] == b'\x80\x35'
                and data[20:22] == b'\x00\x03' and data[22:28] == want):
            n += 1
    print(n, flush=True)
    return frames.status()


def raw_send(iface, hexframe):
    tx_socket(iface).send(bytes.fromhex(hexframe))


def tcp_server(addr, port):
    fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(1)
    # bounds on silence, not on the transfer: generous for emulated guests
    s.settimeout(60)
    c, _ = s.accept()
    c.settimeout(60)
    h, total = hashlib.sha256(), 0
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        h.update(b)
        total += len(b)
    print(h.hexdigest(), total, flush=True)


def tcp_client(addr, port, nbytes, rate=0):
    fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
    s = socket.create_connection((addr, port), timeout=60)
    h, left = hashlib.sha256(), nbytes
    block = os.urandom(1 << 20)
    # paced (rate bytes/s): a transfer that lasts, in 64 KiB steps
    step, start = (1 << 16) if rate else len(block), time.monotonic()
    while left:
        b = block[:min(left, step)]
        s.sendall(b)
        h.update(b)
        left -= len(b)
        block = block[1:] + block[:1]	# not one repeating pattern
        ahead = (nbytes - left) / rate - (time.monotonic() - start) if rate else 0
        if ahead > 0:
            time.sleep(ahead)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    print(h.hexdigest(), nbytes, flush=True)


def blast(iface, dst, secs):
    tx = tx_socket(iface)
    frame = mac_bytes(dst) + if_mac(iface) + struct.pack('!H', 0x88b5) + bytes(50)
    sent, end = 0, time.time() + secs
    while time.time() < end:
        try:
            tx.send(frame)
            sent += 1
        except OSError:
            pass	# no carrier, full queue: the storm is the point
        time.sleep(0.0005)
    print(sent, flush=True)


VU_GET_FEATURES, VU_GET_PROTOCOL_FEATURES = 1, 15


def serve_unix(path, kind, serve):
    """Listen on AF_UNIX socket PATH (KIND: SOCK_STREAM, SOCK_SEQPACKET) and
    run SERVE(conn) for each client in turn, for ever. A connection stays
    open after SERVE returns: a peer that stalls, not one that hangs up."""
    srv = socket.socket(socket.AF_UNIX, kind)
    srv.bind(path)
    srv.listen(4)
    conns = []
    while True:
        c, _ = srv.accept()
        conns.append(c)
        serve(c)


def fake_backend(path, mode):
    def serve(c):
        with open(path + '.log', 'a') as f:
            f.write('connect\n')
        while True:
            hdr = c.recv(12, socket.MSG_WAITALL)
            if len(hdr) < 12:
                break
            req, flags, size = struct.unpack('<III', hdr)
            if size:
                c.recv(size, socket.MSG_WAITALL)
            if mode == 'silent' or req != VU_GET_FEATURES:
                continue	# SET_OWNER wants no reply; the rest: stall
            code = 99 if mode == 'wrong-code' else req
            # VERSION_1 (32) | PROTOCOL_FEATURES (30): the next request
            # is GET_PROTOCOL_FEATURES, which 'stall' leaves unanswered
            c.send(struct.pack('<IIIQ', code, 0x5, 8, 1 << 32 | 1 << 30))

    serve_unix(path, socket.SOCK_STREAM, serve)


NLMSG_ERROR, VNET_NLMSG_SOCKOPT = 2, 0x0f


def stuck_vnetd(path):
    def serve(c):
        while True:
            req = c.recv(65536)
            if len(req) < 16:
                break
            _, kind, _, seq, pid = struct.unpack('=IHHII', req[:16])
            if kind != VNET_NLMSG_SOCKOPT:
                continue	# the request itself: no answer, ever
            # an ack: error 0 and the request's header (capped)
            c.send(struct.pack('=IHHII', 36, NLMSG_ERROR, 0x100, seq, pid) +
                   struct.pack('=i', 0) + req[:16])

    serve_unix(path, socket.SOCK_SEQPACKET, serve)


UDP_SEGMENT = 103


def udp_payload(n, size):
    seed = hashlib.sha256(struct.pack('!I', n)).digest()
    return struct.pack('!I', n) + (seed * (size // 32 + 1))[:size - 4]


def udp_gso_send(addr, port, sends, segs, segsize):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_UDP, UDP_SEGMENT, segsize)
    s.connect((addr, port))
    n = 0
    for _ in range(sends):
        s.send(b''.join(udp_payload(n + i, segsize) for i in range(segs)))
        n += segs
        time.sleep(0.002)	# a pace the receiver keeps up with
    print(n, flush=True)


def udp_count(addr, port, secs):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((addr, port))
    print('ready', file=sys.stderr, flush=True)
    good = bad = 0
    end = time.time() + secs
    s.settimeout(secs)
    while time.time() < end:
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        s.settimeout(2)
        if len(b) >= 4 and b == udp_payload(struct.unpack('!I', b[:4])[0], len(b)):
            good += 1
        else:
            bad += 1
    print(good, bad, flush=True)


def main(a):
    if a[0] == 'probe':
        probe(a[1], a[2], int(a[3]), int(a[4]) if len(a) > 4 else None)
    elif a[0] == 'flows':
        flows(a[1], a[2], int(a[3]), int(a[4]) if len(a) > 4 else 16)
    elif a[0] == 'udp-flows':
        udp_flows(a[1], int(a[2]), int(a[3]), int(a[4]), int(a[5]) if len(a) > 5 else 32)
    elif a[0] == 'tcp-server':
        tcp_server(a[1], int(a[2]))
    elif a[0] == 'tcp-client':
        tcp_client(a[1], int(a[2]), int(a[3]), int(a[4]) if len(a) > 4 else 0)
    elif a[0] == 'blast':
        blast(a[1], a[2], float(a[3]))
    elif a[0] == 'mark-send':
        mark_send(a[1], a[2], a[3], int(a[4]), int(a[5]) if len(a) > 5 else None)
    elif a[0] == 'spoof-send':
        mark_send(a[1], 'ff:ff:ff:ff:ff:ff', a[3], int(a[4]), src=a[2])
        if len(a) > 5:
            mark_send(a[1], 'ff:ff:ff:ff:ff:ff', a[5], 1)
    elif a[0] == 'mark-count':
        return mark_count(a[1], a[2], float(a[3]), a[4] if len(a) > 4 else None)
    elif a[0] == 'raw-send':
        raw_send(a[1], a[2])
    elif a[0] == 'udp-gso-send':
        udp_gso_send(a[1], int(a[2]), int(a[3]), int(a[4]), int(a[5]))
    elif a[0] == 'udp-count':
        udp_count(a[1], int(a[2]), float(a[3]))
    elif a[0] == 'rarp-count':
        return rarp_count(a[1], a[2], float(a[3]), a[4] if len(a) > 4 else None)
    elif a[0] == 'fake-backend':
        fake_backend(a[1], a[2])
    elif a[0] == 'stuck-vnetd':
        stuck_vnetd(a[1])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

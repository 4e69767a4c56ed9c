#!/usr/bin/env python3
"""Reads a sipp message trace (-trace_msg -message_file FILE) and prints what a test asks
about the messages in it, one line per selected message. With --baresip PEER it reads
baresip's SIP trace (baresip -s: "#", then "UDP|TCP A -> B", then the message) instead,
PEER being the host:port of the server baresip talks to (messages from it are the received
ones, since a TCP connection baresip opens has no fixed local port; no times).

  sipp_trace.py FILE [--baresip HOST:PORT] [--recv | --sent] [--start REGEX] [--call-id REGEX]
                [--header NAME ... | --time | --first-line | --raw | --count | --transport]

--recv / --sent   only messages sipp received / sent
--start REGEX     only messages whose start line matches (e.g. '^INVITE ', '^SIP/2.0 180')
--call-id REGEX   only messages whose Call-ID matches
--header NAME     print the values of header NAME (case-insensitive, compact forms not
                  expanded), joined with ' | ' when it occurs more than once; repeatable:
                  values of several headers are separated by ' || '
--time            print the time sipp logged for the message (seconds since the epoch)
--first-line      print the start line (the default)
--raw             print the whole message, then a line '--'
--count           print only the number of selected messages
--transport       print the transport it came or went over (baresip traces only: UDP, TCP)
Exit status 0, also when nothing is selected; 2 when FILE cannot be read.
"""
import argparse
import datetime
import re
import sys

SEP = re.compile(r'^-{40,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)\s*$')
DIR = re.compile(r'^(\w+) message (sent|received)')


def messages(text):
    """Yields dicts: time (float), dir ('sent'/'recv'), lines (the SIP message's lines)."""
    cur = None
    for line in text.splitlines():
        m = SEP.match(line)
        if m:
            if cur:
                yield cur
            try:
                t = datetime.datetime.strptime(m.group(1), '%Y-%m-%d %H:%M:%S.%f')
            except ValueError:
                t = datetime.datetime.strptime(m.group(1), '%Y-%m-%d %H:%M:%S')
            cur = {'time': t.replace(tzinfo=datetime.timezone.utc).timestamp(), 'dir': None, 'lines': []}
            continue
        if cur is None:
            continue
        if cur['dir'] is None:
            d = DIR.match(line)
            if d:
                cur['dir'] = 'sent' if d.group(2) == 'sent' else 'recv'
            continue
        cur['lines'].append(line.rstrip('\r'))
    if cur:
        yield cur


BARESIP_HOP = re.compile(r'^(UDP|TCP|TLS|WS|WSS) (\S+) -> (\S+)\s*$')


def baresip_messages(text, peer):
    """Yields the messages of a baresip -s trace, like messages()."""
    cur = None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = re.sub(r'\x1b\[[0-9;]*m', '', lines[i]).rstrip('\r')
        if line == '#' and i + 1 < len(lines):
            m = BARESIP_HOP.match(re.sub(r'\x1b\[[0-9;]*m', '', lines[i + 1]))
            if m:
                if cur:
                    yield cur
                cur = {'time': 0.0, 'dir': 'recv' if m.group(2) == peer else 'sent',
                       'transport': m.group(1), 'lines': []}
                i += 2
                continue
        if cur is not None:
            cur['lines'].append(line)
        i += 1
    if cur:
        yield cur


def sip_lines(msg):
    """The message's lines from its start line to the end of its headers."""
    lines = msg['lines']
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    out = []
    for line in lines[i:]:
        if not line.strip():
            break
        out.append(line)
    return out


def header(msg, name):
    vals = []
    for line in sip_lines(msg)[1:]:
        k, sep, v = line.partition(':')
        if sep and k.strip().lower() == name.lower():
            vals.append(v.strip())
    return vals


def main():
    ap = argparse.ArgumentParser(add_help=True)
    ap.add_argument('file')
    ap.add_argument('--baresip', metavar='HOST:PORT')
    g = ap.add_mutually_exclusive_group()
    g.add_argument('--recv', action='store_true')
    g.add_argument('--sent', action='store_true')
    ap.add_argument('--start')
    ap.add_argument('--call-id')
    ap.add_argument('--header', action='append', default=[])
    ap.add_argument('--time', action='store_true')
    ap.add_argument('--first-line', action='store_true')
    ap.add_argument('--raw', action='store_true')
    ap.add_argument('--count', action='store_true')
    ap.add_argument('--transport', action='store_true')
    a = ap.parse_args()
    try:
        with open(a.file, encoding='utf-8', errors='replace') as f:
            text = f.read()
    except OSError as e:
        print(f'sipp_trace.py: {e}', file=sys.stderr)
        return 2
    sel = []
    for m in (baresip_messages(text, a.baresip) if a.baresip else messages(text)):
        lines = sip_lines(m)
        if not lines:
            continue
        if a.recv and m['dir'] != 'recv':
            continue
        if a.sent and m['dir'] != 'sent':
            continue
        if a.start and not re.search(a.start, lines[0]):
            continue
        if a.call_id and not any(re.search(a.call_id, v) for v in header(m, 'Call-ID') + header(m, 'i')):
            continue
        sel.append(m)
    if a.count:
        print(len(sel))
        return 0
    for m in sel:
        if a.header:
            print(' || '.join(' | '.join(header(m, h)) for h in a.header))
        elif a.transport:
            print(m.get('transport', ''))
        elif a.time:
            print(f"{m['time']:.6f}")
        elif a.raw:
            print('\n'.join(m['lines']).strip('\n'))
            print('--')
        else:
            print(sip_lines(m)[0])
    return 0


if __name__ == '__main__':
    sys.exit(main())

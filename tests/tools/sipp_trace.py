#!/usr/bin/env python3
"""Reads a sipp message trace (-trace_msg -message_file FILE) and prints what a test asks
about the messages in it, one line per selected message.

  sipp_trace.py FILE [--recv | --sent] [--start REGEX] [--call-id REGEX]
                [--header NAME ... | --time | --first-line | --raw | --count]

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
    a = ap.parse_args()
    try:
        with open(a.file, encoding='utf-8', errors='replace') as f:
            text = f.read()
    except OSError as e:
        print(f'sipp_trace.py: {e}', file=sys.stderr)
        return 2
    sel = []
    for m in messages(text):
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

#!/usr/bin/env python3
"""Comments must not point at things that do not exist (issue 16 item 7).

Checks every comment under the given directories (default: Sources) for
  * a file name `Foo.swift`: some .swift file of that name exists in Sources, Tests, Benchmarks or Fuzz;
  * a DocC link ``Type/member(_:)`` or ``symbol``: each name in it is declared in our code, in a
    checked-out dependency (.build/checkouts) or is a module of ours;
  * `Type.member` / ``Type/member`` where Type is one of ours: `member` is declared in a file that
    declares or extends Type.
Names of other projects (mediasoup's `RtpStreamSend`, Jitsi's classes) are written in single
backticks without a member of ours, so they are not checked. Prints one line per dangling
reference and exits 1 if there is any. Usage: scripts/check-comment-refs.py [DIR ...]
"""
import collections
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(ROOT)

DECL = re.compile(r'\b(?:func|var|let|case|class|struct|enum|protocol|actor|typealias|associatedtype|init|subscript)\s+`?([A-Za-z_]\w*)')
CASES = re.compile(r'\bcase\s+([^:=\n{]+)')
TYPES = re.compile(r'\b(?:class|struct|enum|protocol|actor|extension)\s+([A-Z]\w*)')
# Standard-library and synthesized names DocC links may use.
BUILTIN = {'init', 'description', 'rawValue', 'allCases', 'SystemRandomNumberGenerator', 'Duration', 'Sendable', 'Error'}
# Other projects' members that share a type name with ours (socket.io's Node `Socket`).
EXTERNAL_MEMBERS = {'Socket.buildHandshake'}


def declared(text):
    names = set(DECL.findall(text))
    for match in CASES.finditer(text):
        for part in match.group(1).split(','):
            name = re.match(r'\s*\.?([A-Za-z_]\w*)', part)
            if name:
                names.add(name.group(1))
    return names


ours = [p for d in ('Sources', 'Tests', 'Benchmarks', 'Fuzz') for p in glob.glob(d + '/**/*.swift', recursive=True)]
file_names = {os.path.basename(p) for p in ours} | {"Package.swift"}
known = set(BUILTIN) | {os.path.basename(d) for d in glob.glob('Sources/*')}
members = collections.defaultdict(set)
for path in ours:
    text = open(path, errors='ignore').read()
    names = declared(text)
    known |= names
    if path.startswith('Sources/'):
        for type_name in TYPES.findall(text):
            members[type_name] |= names
for path in glob.glob('.build/checkouts/*/Sources/**/*.swift', recursive=True):
    known |= declared(open(path, errors='ignore').read())

problems = 0
for directory in sys.argv[1:] or ['Sources']:
    for path in sorted(glob.glob(directory + '/**/*.swift', recursive=True)):
        for number, line in enumerate(open(path).read().split('\n'), 1):
            start = line.find('//')
            if start < 0:
                continue
            comment = line[start:]
            found = []
            for match in re.finditer(r'([\w+./-]+\.swift)\b', comment):
                if os.path.basename(match.group(1)) not in file_names:
                    found.append(f'file {match.group(1)}')
            for match in re.finditer(r'``([^`]+)``', comment):
                missing = [n for n in re.findall(r'(?:^|[/.])([A-Za-z_]\w*)', match.group(1)) if n not in known]
                if missing:
                    found.append(f'symbol ``{match.group(1)}`` ({", ".join(missing)})')
            for match in re.finditer(r'``?([A-Z]\w*)[./]([a-z]\w*)', comment):
                type_name, member = match.groups()
                if f'{type_name}.{member}' in EXTERNAL_MEMBERS or member in BUILTIN or member == 'swift':
                    continue
                if type_name in members and member not in members[type_name]:
                    found.append(f'member {type_name}.{member}')
            for problem in found:
                print(f'{path}:{number}: {problem}')
                problems += 1
sys.exit(1 if problems else 0)

#!/usr/bin/env python3
"""Byte-flip campaign against a session file, as an independent check of the session's integrity
protection (docs/hardening.md, "Figures").

For each of N trials (deterministic for a seed), copies SESSION, overwrites 1..4 random bytes at
random offsets with random values, and runs `mpq session verify COPY --json`. Each outcome is one of:
  detected   exit 1: verify named the damaged object(s) (or the file could not be opened)
  harmless   exit 0 and the content digest equals the original's: the flipped bytes were
             not part of anything stored (free space, padding, an unused header field)
  SILENT     exit 0 but a different content digest: damage that was not detected (a failure)
  CRASH      any other exit status, or a signal (a failure)

usage: mutate_session.py MPQ SESSION [--trials N] [--seed S]
Prints one line per outcome class and the SILENT/CRASH cases; exit status 1 when any occurred.
"""
import argparse, json, os, random, shutil, subprocess, sys, tempfile

def verify(mpq, path):
    p = subprocess.run([mpq, "session", "verify", path, "--json"], capture_output=True, text=True, timeout=600)
    out = None
    if p.stdout.strip():
        try:
            out = json.loads(p.stdout.strip().splitlines()[-1])
        except json.JSONDecodeError:
            pass
    return p.returncode, out, p.stderr

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mpq"); ap.add_argument("session")
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rc, base, err = verify(a.mpq, a.session)
    if rc != 0 or not base or not base["intact"]:
        sys.exit(f"the original session does not verify: {err or base}")
    size = os.path.getsize(a.session)
    rng = random.Random(a.seed)
    counts = {"detected": 0, "harmless": 0, "SILENT": 0, "CRASH": 0}
    bad = []
    with tempfile.TemporaryDirectory() as tmp:
        for t in range(a.trials):
            copy = os.path.join(tmp, "s.h5")
            shutil.copyfile(a.session, copy)
            flips = []
            with open(copy, "r+b") as f:
                for _ in range(rng.randint(1, 4)):
                    off = rng.randrange(size)
                    f.seek(off); old = f.read(1)[0]
                    new = rng.choice([v for v in range(256) if v != old])
                    f.seek(off); f.write(bytes([new]))
                    flips.append((off, old, new))
            shutil.rmtree(copy + ".journal", ignore_errors=True)
            rc, out, err = verify(a.mpq, copy)
            if rc == 1:
                kind = "detected"
            elif rc == 0 and out and out["content_sha256"] == base["content_sha256"]:
                kind = "harmless"
            elif rc == 0:
                kind = "SILENT"
            else:
                kind = "CRASH"
            counts[kind] += 1
            if kind in ("SILENT", "CRASH"):
                bad.append((t, flips, rc, (err or "").strip().splitlines()[-1:] ))
    print(f"{a.session}: {size} bytes, {a.trials} trials (seed {a.seed}), 1-4 random bytes overwritten each")
    for k, v in counts.items():
        print(f"  {k:9s} {v}")
    for t, flips, rc, err in bad:
        print(f"  trial {t}: exit {rc}, flips {flips}, {err}")
    sys.exit(1 if bad else 0)

if __name__ == "__main__":
    main()

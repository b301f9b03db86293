# The uniform HQQ line at each budget two ways: (a) the docs' (uniform points at their reported
# bits with overhead, GPTQ format: 16-bit scale + b-bit zero per group), (b) uniform points at
# MXQ's own storage (from the cost table: 8-bit scale and zero + meta), lower envelope, linear.
import json,sys
def envelope(pts):
    pts=sorted(pts)
    env=[]
    for x,y in pts:
        if env and y>=env[-1][1]: continue
        env.append((x,y))
    return env
def at(env,b):
    if b<=env[0][0]: return None
    for (x0,y0),(x1,y1) in zip(env,env[1:]):
        if x0<=b<=x1: return y0+(b-x0)/(x1-x0)*(y1-y0)
    return env[-1][1]
uniform={
 's260':{'b2g32':(2.578,435.01),'b2g64':(2.289,1967.97),'b2g128':(2.264,2016.57),'b3g128':(3.278,89.50),'b3g64':(3.305,86.17),'b3g32':(3.611,71.61),'b4g128':(4.293,58.11),'b4g64':(4.321,56.66),'b4g32':(4.643,57.77)},
 'm42':{'b3g128':(3.148,101.46),'b3g64':(3.297,99.76),'b3g32':(3.594,98.13),'b4g128':(4.156,96.93),'b4g64':(4.312,96.46),'b4g32':(4.625,95.95)}}
which,table=sys.argv[1],sys.argv[2]
t=json.load(open(table))
P=sum(m['rows']*m['cols'] for m in t['matrices'])
mxqbits={}
for k,c in enumerate(t['configs']):
    mxqbits[f"b{c['bits']}g{c['group_size']}"]=sum(m['storage_bits'][k] for m in t['matrices'])/P
u=uniform[which]
ea=envelope(list(u.values()))
eb=envelope([(mxqbits[k],v[1]) for k,v in u.items()])
print("uniform points, reported bits / MXQ storage bits:", {k:(v[0],round(mxqbits[k],4),v[1]) for k,v in u.items()})
for b in [3.13,3.25,3.5,3.75,4.0,4.25,4.5,4.6]:
    print(b, "docs line", round(at(ea,b),2) if at(ea,b) else None, "MXQ-storage line", round(at(eb,b),2))

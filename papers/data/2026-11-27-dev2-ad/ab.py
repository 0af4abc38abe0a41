# Medians of within-round ratios (baseline's ns over ours) per process, and pooled over processes, per tag.
# usage: python3 ab.py FOLDER (holding TAG-N/interleaved.csv[.gz])
import sys,csv,gzip,statistics as st,glob,os
from collections import defaultdict
BASE={'queue':'ConcurrentQueue','pool':'ThreadPool.UnsafeQueueUserWorkItem'}
root=sys.argv[1]
res=defaultdict(lambda: defaultdict(list)); pooled=defaultdict(lambda: defaultdict(list)); rts=defaultdict(list)
for d in sorted(glob.glob(f'{root}/*-*/')):
    tag=os.path.basename(d.rstrip('/')).split('-')[0]
    f=d+'interleaved.csv'
    if not os.path.exists(f): f+='.gz'
    if not os.path.exists(f): continue
    byr=defaultdict(dict); rt={}
    for x in csv.DictReader(gzip.open(f,'rt') if f.endswith('.gz') else open(f)):
        byr[(x['round'],x['suite'],x['case'])][x['impl']]=float(x['ns_per_op']); rt[x['round']]=float(x['round_trip_ns'])
    per=defaultdict(list)
    for (r,s,c),v in byr.items():
        b=next((i for i in v if i in ('ConcurrentQueue','ThreadPool.UnsafeQueueUserWorkItem','ThreadPool.UnsafeQueueUserWorkItem + ConcurrentQueue','Parallel.ForEach (ranges)','SemaphoreSlim')),None)
        if b is None: continue
        for imp,ns in v.items():
            if imp==b: continue
            per[(s,c,imp)].append(v[b]/ns)
    for k,l in per.items():
        res[k][tag].append(st.median(l)); pooled[k][tag]+=l
    rts[tag].append(st.median(rt.values()))
print('round trips', {t:[round(x) for x in v] for t,v in rts.items()})
for k in sorted(res):
    s,c,imp=k
    if 'Channel' in imp or 'Blocking' in imp or 'Task.Run' in imp or 'Dataflow' in imp: continue
    line=f"{c:8} {imp[:40]:40}"
    for t in sorted(res[k], key=lambda t: (t!='base', t)):
        line+=f"\n     {t:10}: "+' '.join(f"{x:.2f}" for x in res[k][t])+f" (pooled {st.median(pooled[k][t]):.2f})"
    print(line)

import { SmoothWeightedRoundRobin } from './src/balance/smooth-wrr.ts';
import { ConsistentHashRing } from './src/balance/chash.ts';
const seq = (w: number[], k: number) => { const r = new SmoothWeightedRoundRobin(w); let s=''; for (let i=0;i<k;i++) s+= 'ABCE'[r.pick(undefined)]; return s; };
console.log(seq([1,4,3,6],56)==='EBCEBEACEBECBEEBCEBEACEBECBE'.repeat(2));
console.log(seq([1,2,3],12));
for (const n of [10,100,1000,10000]) {
  const w = Array.from({length:n},(_, i)=>1+(i%5));
  const r = new SmoothWeightedRoundRobin(w);
  let t0=performance.now(); for (let i=0;i<40000;i++) r.pick(undefined); const warm = performance.now()-t0;
  let t=performance.now(); const N= 2e6; let acc=0; for (let i=0;i<N;i++) acc+=r.pick(undefined); let dt=performance.now()-t;
  const ring = new ConsistentHashRing(w.map((x,i)=>({host:'10.0.'+(i>>8)+'.'+(i&255), port:80, weight:x})));
  const keys = Array.from({length:4096},(_, i)=>'/user/'+i);
  for (let i=0;i<N;i++) acc+=ring.pick(undefined, keys[i&4095]!);
  let t3=performance.now(); for (let i=0;i<N;i++) acc+=ring.pick(undefined, keys[i&4095]!); let dt3=performance.now()-t3;
  console.log(n, 'warm ms', warm.toFixed(0), 'wrr ns', (dt*1e6/N).toFixed(1), 'chash ns', (dt3*1e6/N).toFixed(1), ring.size, acc>0);
}

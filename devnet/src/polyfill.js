// js-libp2p 3.x calls Promise.withResolvers, which Node 20 lacks (FILECOIN.md §6). Contract:
// defines it, with the standard semantics, only when missing.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve, reject
    const promise = new this((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}

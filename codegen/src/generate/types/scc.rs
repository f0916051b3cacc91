//! Strongly connected components of a directed graph, to find recursive models.

use std::collections::{BTreeMap, BTreeSet};

/// Tarjan's algorithm; returns each node's component number.
pub(super) fn strongly_connected(
    edges: &BTreeMap<String, BTreeSet<String>>,
) -> BTreeMap<String, usize> {
    struct State<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        on_stack: BTreeSet<&'a str>,
        stack: Vec<&'a str>,
        next: usize,
        component: BTreeMap<String, usize>,
        components: usize,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        let edges = s.edges;
        for w in &edges[v] {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            loop {
                let w = s.stack.pop().expect("on stack");
                s.on_stack.remove(w);
                s.component.insert(w.to_owned(), s.components);
                if w == v {
                    break;
                }
            }
            s.components += 1;
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        on_stack: BTreeSet::new(),
        stack: Vec::new(),
        next: 0,
        component: BTreeMap::new(),
        components: 0,
    };
    for v in edges.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.component
}

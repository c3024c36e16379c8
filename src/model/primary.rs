//! The primary worker pool: workers with `calls_per_worker` slots each and a
//! lifecycle provisioning → ready → draining → gone.
//!
//! Admission takes any ready worker with a free slot in O(1): ready workers
//! with spare slots sit in an indexed set (a vector plus positions), and the
//! most recently freed one is used first. Worker ids are recycled, and a
//! generation number per id lets a stale "ready" event of a cancelled
//! launch be recognised and ignored.

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum WState {
    Provisioning,
    Ready,
    Draining,
    Gone,
}

const NOT_FREE: u32 = u32::MAX;

#[derive(Clone, Debug)]
pub struct Primary {
    cpw: u32,
    load: Vec<u32>,
    state: Vec<WState>,
    generation: Vec<u32>,
    free: Vec<u32>,
    free_pos: Vec<u32>,
    spare_ids: Vec<u32>,
    /// Ids in provisioning, oldest first (cancelled from the back).
    provisioning_ids: Vec<u32>,
    pub ready: u32,
    pub draining: u32,
    /// Calls in service on the primary (on ready and draining workers).
    pub busy: u64,
}

impl Primary {
    /// A pool with `ready` workers ready at once.
    pub fn new(ready: u32, calls_per_worker: u32) -> Primary {
        let mut p = Primary {
            cpw: calls_per_worker,
            load: Vec::new(),
            state: Vec::new(),
            generation: Vec::new(),
            free: Vec::new(),
            free_pos: Vec::new(),
            spare_ids: Vec::new(),
            provisioning_ids: Vec::new(),
            ready: 0,
            draining: 0,
            busy: 0,
        };
        for _ in 0..ready {
            let (id, g) = p.launch_one();
            p.make_ready(id, g);
        }
        p
    }

    pub fn calls_per_worker(&self) -> u32 {
        self.cpw
    }

    pub fn provisioning(&self) -> u32 {
        self.provisioning_ids.len() as u32
    }

    /// Slots on ready workers.
    pub fn capacity(&self) -> u64 {
        self.ready as u64 * self.cpw as u64
    }

    /// Workers counted against the autoscaler's target: ready + provisioning.
    pub fn target_count(&self) -> u32 {
        self.ready + self.provisioning()
    }

    /// Workers being paid for.
    pub fn billed(&self) -> u32 {
        self.ready + self.provisioning() + self.draining
    }

    pub fn has_free_slot(&self) -> bool {
        !self.free.is_empty()
    }

    fn free_insert(&mut self, w: u32) {
        self.free_pos[w as usize] = self.free.len() as u32;
        self.free.push(w);
    }

    fn free_remove(&mut self, w: u32) {
        let pos = self.free_pos[w as usize];
        if pos == NOT_FREE {
            return;
        }
        let last = *self.free.last().expect("non-empty free set");
        self.free.swap_remove(pos as usize);
        if last != w {
            self.free_pos[last as usize] = pos;
        }
        self.free_pos[w as usize] = NOT_FREE;
    }

    /// Takes a slot on a ready worker; returns the worker.
    #[inline]
    pub fn try_admit(&mut self) -> Option<u32> {
        let &w = self.free.last()?;
        let l = &mut self.load[w as usize];
        *l += 1;
        self.busy += 1;
        if *l == self.cpw {
            self.free.pop();
            self.free_pos[w as usize] = NOT_FREE;
        }
        Some(w)
    }

    /// A call on worker `w` ended. Returns true if a slot became free for a
    /// new call (the worker is ready, not draining).
    #[inline]
    pub fn release(&mut self, w: u32) -> bool {
        let i = w as usize;
        self.load[i] -= 1;
        self.busy -= 1;
        match self.state[i] {
            WState::Ready => {
                if self.load[i] + 1 == self.cpw {
                    self.free_insert(w);
                }
                true
            }
            WState::Draining => {
                if self.load[i] == 0 {
                    self.retire(w);
                    self.draining -= 1;
                }
                false
            }
            s => unreachable!("call ended on a worker in state {s:?}"),
        }
    }

    fn launch_one(&mut self) -> (u32, u32) {
        let id = match self.spare_ids.pop() {
            Some(id) => id,
            None => {
                self.load.push(0);
                self.state.push(WState::Gone);
                self.generation.push(0);
                self.free_pos.push(NOT_FREE);
                (self.load.len() - 1) as u32
            }
        };
        let i = id as usize;
        self.state[i] = WState::Provisioning;
        self.generation[i] = self.generation[i].wrapping_add(1);
        self.provisioning_ids.push(id);
        (id, self.generation[i])
    }

    /// Starts provisioning `n` workers; returns `(id, generation)` for each,
    /// to be passed to [`Primary::make_ready`] when its delay has passed.
    pub fn launch(&mut self, n: u32) -> Vec<(u32, u32)> {
        (0..n).map(|_| self.launch_one()).collect()
    }

    /// A provisioned worker becomes ready. Returns false (and does nothing)
    /// if that launch was cancelled meanwhile.
    pub fn make_ready(&mut self, id: u32, generation: u32) -> bool {
        let i = id as usize;
        if self.state[i] != WState::Provisioning || self.generation[i] != generation {
            return false;
        }
        let pos = self.provisioning_ids.iter().position(|&x| x == id).expect("listed while provisioning");
        self.provisioning_ids.remove(pos);
        self.state[i] = WState::Ready;
        self.ready += 1;
        if self.cpw > 0 {
            self.free_insert(id);
        }
        true
    }

    fn retire(&mut self, w: u32) {
        self.state[w as usize] = WState::Gone;
        self.spare_ids.push(w);
    }

    /// Removes `n` workers from the target count: cancels the newest
    /// launches first, then drains the least-loaded ready workers (an idle
    /// one goes at once; a busy one finishes its calls and takes no more).
    /// Returns `(cancelled, drained)`.
    pub fn scale_down(&mut self, n: u32) -> (u32, u32) {
        let mut left = n;
        let mut cancelled = 0;
        while left > 0 {
            let Some(id) = self.provisioning_ids.pop() else { break };
            self.retire(id);
            left -= 1;
            cancelled += 1;
        }
        if left == 0 {
            return (cancelled, 0);
        }
        let mut ready: Vec<u32> =
            (0..self.state.len() as u32).filter(|&w| self.state[w as usize] == WState::Ready).collect();
        ready.sort_by_key(|&w| (self.load[w as usize], w));
        let mut drained = 0;
        for w in ready.into_iter().take(left as usize) {
            self.free_remove(w);
            self.ready -= 1;
            drained += 1;
            if self.load[w as usize] == 0 {
                self.retire(w);
            } else {
                self.state[w as usize] = WState::Draining;
                self.draining += 1;
            }
        }
        (cancelled, drained)
    }

    /// Whether launch `(id, generation)` is still provisioning (not
    /// cancelled, not yet ready).
    pub fn is_provisioning(&self, id: u32, generation: u32) -> bool {
        let i = id as usize;
        self.state[i] == WState::Provisioning && self.generation[i] == generation
    }

    /// Largest number of worker records held (for memory accounting).
    pub fn records(&self) -> usize {
        self.state.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_fill_and_free() {
        let mut p = Primary::new(2, 2);
        assert_eq!(p.capacity(), 4);
        let ws: Vec<u32> = (0..4).map(|_| p.try_admit().unwrap()).collect();
        assert!(p.try_admit().is_none());
        assert!(p.release(ws[0]));
        assert_eq!(p.try_admit(), Some(ws[0]));
        assert_eq!(p.busy, 4);
    }

    #[test]
    fn draining_workers_finish_calls_but_take_none() {
        let mut p = Primary::new(2, 1);
        let w = p.try_admit().unwrap();
        assert_eq!(p.scale_down(2), (0, 2));
        assert_eq!((p.ready, p.draining, p.capacity()), (0, 1, 0));
        assert!(p.try_admit().is_none());
        assert!(!p.release(w));
        assert_eq!((p.draining, p.billed()), (0, 0));
    }

    #[test]
    fn cancelled_launches_never_become_ready() {
        let mut p = Primary::new(1, 1);
        let l = p.launch(2);
        assert_eq!(p.target_count(), 3);
        assert_eq!(p.scale_down(1), (1, 0));
        // The newest launch was cancelled; its id may be reused with a new generation.
        assert!(!p.make_ready(l[1].0, l[1].1));
        assert!(p.make_ready(l[0].0, l[0].1));
        let again = p.launch(1);
        assert_eq!(again[0].0, l[1].0);
        assert!(!p.make_ready(l[1].0, l[1].1));
        assert!(p.make_ready(again[0].0, again[0].1));
        assert_eq!(p.ready, 3);
    }
}

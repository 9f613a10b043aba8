//! `MemoryBudget`: one bound on the frame buffers of many readers together.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::error::FrameError;

/// A limit on the buffer memory that any number of readers, on any threads or tasks, hold
/// together.
///
/// Each reader's first buffer step is its own; every byte a reader's buffer grows beyond
/// that step is charged to the budget before it is allocated, and given back when the buffer
/// shrinks or the reader is dropped. A growth the budget cannot cover fails that read with
/// [`FrameError::OverBudget`] (drop that connection): never a panic, an abort or a wait.
///
/// Cloning a budget gives another handle to the same limit.
///
/// # Examples
///
/// ```
/// use lenframe::MemoryBudget;
///
/// let budget = MemoryBudget::new(256 << 20); // all frame buffers together under 256 MiB
/// assert_eq!(budget.limit(), 256 << 20);
/// assert_eq!(budget.in_use(), 0);
/// ```
#[derive(Clone)]
pub struct MemoryBudget {
    inner: Arc<Inner>,
}

struct Inner {
    limit: usize,
    in_use: AtomicUsize,
}

impl MemoryBudget {
    /// A budget of `limit` bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// let budget = lenframe::MemoryBudget::new(1 << 30);
    /// assert_eq!(budget.available(), 1 << 30);
    /// ```
    pub fn new(limit: usize) -> Self {
        MemoryBudget {
            inner: Arc::new(Inner {
                limit,
                in_use: AtomicUsize::new(0),
            }),
        }
    }

    /// The limit in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(lenframe::MemoryBudget::new(4096).limit(), 4096);
    /// ```
    pub fn limit(&self) -> usize {
        self.inner.limit
    }

    /// The bytes charged now, over all readers.
    ///
    /// # Examples
    ///
    /// ```
    /// let budget = lenframe::MemoryBudget::new(4096);
    /// let charge = budget.try_charge(1000)?;
    /// assert_eq!(budget.in_use(), 1000);
    /// drop(charge);
    /// assert_eq!(budget.in_use(), 0);
    /// # Ok::<(), lenframe::FrameError>(())
    /// ```
    pub fn in_use(&self) -> usize {
        self.inner.in_use.load(Ordering::Acquire)
    }

    /// The bytes that can still be charged.
    ///
    /// # Examples
    ///
    /// ```
    /// let budget = lenframe::MemoryBudget::new(4096);
    /// let _charge = budget.try_charge(1000)?;
    /// assert_eq!(budget.available(), 3096);
    /// # Ok::<(), lenframe::FrameError>(())
    /// ```
    pub fn available(&self) -> usize {
        self.limit().saturating_sub(self.in_use())
    }

    /// Charges `bytes`, given back when the returned [`Charge`] is dropped or shrunk.
    ///
    /// # Errors
    ///
    /// [`FrameError::OverBudget`] when the charge would take the budget past its limit;
    /// nothing is charged then.
    ///
    /// # Examples
    ///
    /// ```
    /// use lenframe::{FrameError, MemoryBudget};
    ///
    /// let budget = MemoryBudget::new(100);
    /// let _held = budget.try_charge(60)?;
    /// assert!(matches!(
    ///     budget.try_charge(50),
    ///     Err(FrameError::OverBudget { requested: 50, in_use: 60, limit: 100 })
    /// ));
    /// # Ok::<(), FrameError>(())
    /// ```
    pub fn try_charge(&self, bytes: usize) -> Result<Charge, FrameError> {
        let mut charge = Charge {
            budget: self.clone(),
            bytes: 0,
        };
        charge.resize(bytes)?;
        Ok(charge)
    }

    fn reserve(&self, bytes: usize) -> Result<(), FrameError> {
        let limit = self.inner.limit;
        self.inner
            .in_use
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |in_use| {
                in_use.checked_add(bytes).filter(|&total| total <= limit)
            })
            .map(drop)
            .map_err(|in_use| FrameError::OverBudget {
                requested: bytes,
                in_use,
                limit,
            })
    }

    fn release(&self, bytes: usize) {
        self.inner.in_use.fetch_sub(bytes, Ordering::AcqRel);
    }

    /// Whether `self` and `other` are handles to the same budget.
    pub(crate) fn same_as(&self, other: &MemoryBudget) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl fmt::Debug for MemoryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryBudget")
            .field("limit", &self.limit())
            .field("in_use", &self.in_use())
            .finish()
    }
}

/// Bytes charged to a [`MemoryBudget`], given back when dropped.
///
/// # Examples
///
/// ```
/// let budget = lenframe::MemoryBudget::new(1000);
/// let mut charge = budget.try_charge(100)?;
/// charge.resize(700)?;
/// assert_eq!((charge.bytes(), budget.in_use()), (700, 700));
/// charge.resize(10)?;
/// assert_eq!(budget.in_use(), 10);
/// # Ok::<(), lenframe::FrameError>(())
/// ```
#[derive(Debug)]
pub struct Charge {
    budget: MemoryBudget,
    bytes: usize,
}

impl Charge {
    /// The bytes this charge holds.
    ///
    /// # Examples
    ///
    /// ```
    /// let budget = lenframe::MemoryBudget::new(10);
    /// assert_eq!(budget.try_charge(3)?.bytes(), 3);
    /// # Ok::<(), lenframe::FrameError>(())
    /// ```
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Makes this charge hold `bytes`: charges the difference or gives it back.
    ///
    /// # Errors
    ///
    /// [`FrameError::OverBudget`] when growing would pass the limit; the charge is then
    /// unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// let budget = lenframe::MemoryBudget::new(10);
    /// let mut charge = budget.try_charge(0)?;
    /// assert!(charge.resize(11).is_err());
    /// assert_eq!(charge.bytes(), 0);
    /// # Ok::<(), lenframe::FrameError>(())
    /// ```
    pub fn resize(&mut self, bytes: usize) -> Result<(), FrameError> {
        if bytes > self.bytes {
            self.budget.reserve(bytes - self.bytes)?;
        } else {
            self.budget.release(self.bytes - bytes);
        }
        self.bytes = bytes;
        Ok(())
    }

    /// Moves what this charge holds into a new charge on the same budget, leaving this one
    /// empty: memory handed over to an owner that outlives the charge's first holder.
    pub(crate) fn take(&mut self) -> Charge {
        Charge {
            budget: self.budget.clone(),
            bytes: std::mem::take(&mut self.bytes),
        }
    }
}

impl Charge {
    /// The budget this charge is taken from.
    pub(crate) fn budget(&self) -> &MemoryBudget {
        &self.budget
    }

    /// Resizes the charge to `bytes` even past the budget's limit: for memory that must be
    /// held whatever the budget says (the rest of a frame already partly on the wire). Later
    /// charges fail until enough is given back.
    pub(crate) fn force(&mut self, bytes: usize) {
        if self.resize(bytes).is_err() {
            let more = bytes - self.bytes;
            self.budget.inner.in_use.fetch_add(more, Ordering::AcqRel);
            self.bytes = bytes;
        }
    }
}

/// Moves `charge` to `budget` for `held` bytes: nothing changes when it is the budget
/// already charged; otherwise the new budget is charged before the old charge is given
/// back, so on refusal the old one stays.
pub(crate) fn recharge(
    charge: &mut Option<Charge>,
    budget: Option<MemoryBudget>,
    held: usize,
) -> Result<(), FrameError> {
    if let (Some(new), Some(old)) = (&budget, &*charge) {
        if new.same_as(old.budget()) {
            return Ok(());
        }
    }
    *charge = budget.map(|b| b.try_charge(held)).transpose()?;
    Ok(())
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.budget.release(self.bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_resize_and_come_back_exactly() {
        let budget = MemoryBudget::new(100);
        let mut a = budget.try_charge(30).unwrap();
        let b = budget.clone().try_charge(50).unwrap();
        assert_eq!((budget.in_use(), budget.available()), (80, 20));
        assert!(matches!(
            a.resize(51),
            Err(FrameError::OverBudget {
                requested: 21,
                in_use: 80,
                limit: 100
            })
        ));
        assert_eq!((a.bytes(), budget.in_use()), (30, 80));
        a.resize(50).unwrap();
        assert_eq!((budget.in_use(), budget.available()), (100, 0));
        a.resize(5).unwrap();
        assert_eq!(budget.in_use(), 55);
        drop(b);
        assert_eq!(budget.in_use(), 5);
        drop(a);
        assert_eq!((budget.in_use(), budget.available()), (0, 100));
    }

    #[test]
    fn a_charge_that_would_overflow_is_refused() {
        let budget = MemoryBudget::new(usize::MAX);
        let _held = budget.try_charge(usize::MAX - 1).unwrap();
        assert!(matches!(
            budget.try_charge(2),
            Err(FrameError::OverBudget { requested: 2, .. })
        ));
        assert_eq!(budget.try_charge(1).unwrap().bytes(), 1);
    }

    #[test]
    fn debug_shows_the_numbers() {
        let budget = MemoryBudget::new(9);
        let _c = budget.try_charge(4).unwrap();
        assert_eq!(
            format!("{budget:?}"),
            "MemoryBudget { limit: 9, in_use: 4 }"
        );
    }
}

//! A hint to the processor to start fetching memory that will be read soon.
//!
//! Why: walking 300,000 people for a report reads a few separate blocks of memory per person
//! (their summary's episodes, their track), each a cache miss that the processor cannot foresee,
//! since the addresses are in the person's own record. Asking for a person's blocks a few people
//! ahead overlaps those misses instead of waiting for each in turn.

/// Starts loading the cache line that holds `pointer`. A prefetch never faults and changes
/// nothing the program can observe, so any pointer, even dangling, is fine.
#[inline(always)]
#[allow(unsafe_code)]
pub(crate) fn prefetch<T>(pointer: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetch` only hints the cache; it reads nothing and cannot fault, whatever the
    // address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(pointer.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = pointer;
}

/// Starts loading every cache line of `value`: a record spanning several lines is read by the
/// fold in several places, and one prefetch of its first line leaves the others to miss.
#[inline(always)]
pub(crate) fn prefetch_whole<T>(value: &T) {
    const LINE: usize = 64;
    let start = (value as *const T).cast::<u8>();
    // From the line that holds the first byte to the one that holds the last.
    let lines = (start as usize % LINE + size_of::<T>()).div_ceil(LINE);
    let first_line = start.wrapping_sub(start as usize % LINE);
    for line in 0..lines {
        prefetch(first_line.wrapping_add(line * LINE));
    }
}

/* Intentionally empty: mediasoup passes this library to link_whole; the real
 * code comes from the system library declared in the *_dep variable. */
typedef int moim_stub_translation_unit_is_not_empty;

// moim replacement for ankerl/unordered_dense.h (https://github.com/martinus/unordered_dense),
// which Debian does not package. It maps the parts of the API that mediasoup uses
// (ankerl::unordered_dense::map, ::set and ::hash) onto the C++ standard library.
// Differences from the real library that do not matter to mediasoup: iteration
// order is unspecified (the real map iterates in insertion order) and the
// containers are node based (slower, pointer-stable).
#ifndef MOIM_ANKERL_UNORDERED_DENSE_H
#define MOIM_ANKERL_UNORDERED_DENSE_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#define ANKERL_UNORDERED_DENSE_VERSION_MAJOR 4
#define ANKERL_UNORDERED_DENSE_VERSION_MINOR 8
#define ANKERL_UNORDERED_DENSE_VERSION_PATCH 1

namespace ankerl
{
	namespace unordered_dense
	{
		namespace detail
		{
			// 64-bit finaliser of MurmurHash3: spreads integer keys over all bits
			// (libstdc++'s std::hash of an integer is the identity).
			inline std::uint64_t mix(std::uint64_t x) noexcept
			{
				x ^= x >> 33U;
				x *= UINT64_C(0xff51afd7ed558ccd);
				x ^= x >> 33U;
				x *= UINT64_C(0xc4ceb9fe1a85ec53);
				x ^= x >> 33U;

				return x;
			}
		} // namespace detail

		template<typename T, typename Enable = void>
		struct hash : std::hash<T>
		{
		};

		template<typename T>
		struct hash<T, typename std::enable_if<std::is_integral<T>::value || std::is_enum<T>::value>::type>
		{
			using is_avalanching = void;

			std::uint64_t operator()(const T& obj) const noexcept
			{
				return detail::mix(static_cast<std::uint64_t>(obj));
			}
		};

		template<typename T>
		struct hash<T*>
		{
			using is_avalanching = void;

			std::uint64_t operator()(T* ptr) const noexcept
			{
				return detail::mix(static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(ptr)));
			}
		};

		template<
		  class Key,
		  class T,
		  class Hash      = hash<Key>,
		  class KeyEqual  = std::equal_to<Key>,
		  class Allocator = std::allocator<std::pair<const Key, T>>>
		using map = std::unordered_map<Key, T, Hash, KeyEqual, Allocator>;

		template<
		  class Key,
		  class Hash      = hash<Key>,
		  class KeyEqual  = std::equal_to<Key>,
		  class Allocator = std::allocator<Key>>
		using set = std::unordered_set<Key, Hash, KeyEqual, Allocator>;

		template<
		  class Key,
		  class T,
		  class Hash      = hash<Key>,
		  class KeyEqual  = std::equal_to<Key>,
		  class Allocator = std::allocator<std::pair<const Key, T>>>
		using segmented_map = std::unordered_map<Key, T, Hash, KeyEqual, Allocator>;

		template<
		  class Key,
		  class Hash      = hash<Key>,
		  class KeyEqual  = std::equal_to<Key>,
		  class Allocator = std::allocator<Key>>
		using segmented_set = std::unordered_set<Key, Hash, KeyEqual, Allocator>;

		namespace pmr
		{
		} // namespace pmr
	} // namespace unordered_dense
} // namespace ankerl

#endif

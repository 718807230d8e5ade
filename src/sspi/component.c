// SPDX-License-Identifier: MIT
// Placeholder so the component library exists before its first real source.

// SPDX-License-Identifier: MIT
// Functions that are never used in gatehouse: including this poisons them.
#ifndef GH_BASE_BANNED_H
#define GH_BASE_BANNED_H

#if defined(__GNUC__)
#pragma GCC poison sprintf vsprintf strcpy strcat strtok gets atoi atol
#endif

#endif

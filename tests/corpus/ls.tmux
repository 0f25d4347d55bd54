cursor 23 0
drwxr-xr-x   5 root root    4096 May 20  2025 [1m[34mja
[0m[39m[49mdrwxr-xr-x   5 root root    4096 May 20  2025 [1m[34mko
[0m[39m[49mdrwxr-xr-x   2 root root 1388544 Nov 21 12:17 [1m[34mman1
[0m[39m[49mdrwxr-xr-x   2 root root   20480 Jun 24  2025 [1m[34mman2
[0m[39m[49mdrwxr-xr-x   2 root root   98304 Sep 22 04:48 [1m[34mman3
[0m[39m[49mdrwxr-xr-x   2 root root    4096 Jun 24  2025 [1m[34mman4
[0m[39m[49mdrwxr-xr-x   2 root root   12288 Nov 21 11:31 [1m[34mman5
[0m[39m[49mdrwxr-xr-x   2 root root    4096 Jun 24  2025 [1m[34mman6
[0m[39m[49mdrwxr-xr-x   2 root root   24576 Sep 22 04:51 [1m[34mman7
[0m[39m[49mdrwxr-xr-x   2 root root   20480 Nov 21 11:31 [1m[34mman8
[0m[39m[49mdrwxr-xr-x   6 root root    4096 May 20  2025 [1m[34mnl
[0m[39m[49mdrwxr-xr-x   6 root root    4096 Jun 24  2025 [1m[34mpl
[0m[39m[49mdrwxr-xr-x   6 root root    4096 May 20  2025 [1m[34mpt
[0m[39m[49mdrwxr-xr-x   5 root root    4096 Apr  7  2025 [1m[34mpt_BR
[0m[39m[49mdrwxr-xr-x   5 root root    4096 Sep 22 04:47 [1m[34mro
[0m[39m[49mdrwxr-xr-x   5 root root    4096 May 20  2025 [1m[34mru
[0m[39m[49mdrwxr-xr-x   4 root root    4096 Jul 28  2023 [1m[34msl
[0m[39m[49mdrwxr-xr-x   5 root root    4096 Sep 22 04:47 [1m[34msr
[0m[39m[49mdrwxr-xr-x   7 root root    4096 Jun 24  2025 [1m[34msv
[0m[39m[49mdrwxr-xr-x   5 root root    4096 May 20  2025 [1m[34mtr
[0m[39m[49mdrwxr-xr-x   6 root root    4096 Jun 24  2025 [1m[34muk
[0m[39m[49mdrwxr-xr-x   5 root root    4096 Apr  7  2025 [1m[34mzh_CN
[0m[39m[49mdrwxr-xr-x   5 root root    4096 May 20  2025 [1m[34mzh_TW


cursor 5 4
[38;5;130m  1 [35mimport[39m sys                          [7m|[0m[38;5;130m[49m  1 [35mimport[39m sys
[38;5;130m  2 [39m                                    [7m|[0m[38;5;130m[49m  2 
  3 [39m                                    [7m|[0m[38;5;130m[49m  3 
  4 def[39m [36mgreet[39m(name: [36mstr[39m) -> [36mstr[39m:        [7m|[0m[38;5;130m[49m  4 def[39m [36mgreet[39m(name: [36mstr[39m) -> [36mstr[39m:
[38;5;130m  5 [39m    [31m"""Return a greeting."""[39m        [7m|[0m[38;5;130m[49m  5 [39m    [31m"""Return a greeting."""
[38;5;130m  6 [39m    [38;5;130mreturn[39m f[31m"Hello, {name}!"[39m        [7m|[0m[38;5;130m[49m  6 [39m    [38;5;130mreturn[39m f[31m"Hello, {name}!"
[38;5;130m  7 [39m                                    [7m|[0m[38;5;130m[49m  7 
  8 [39m                                    [7m|[0m[38;5;130m[49m  8 
  9 class[39m [36mCounter[39m:                      [7m|[0m[38;5;130m[49m  9 class[39m [36mCounter[39m:        
[38;5;130m 10 [39m    [38;5;130mdef[39m [36m__init__[39m(self):             [7m|[0m[38;5;130m[49m 10 [39m    [38;5;130mdef[39m [36m__init__[39m(self):
[38;5;130m 11 [39m        self.n = [31m0[39m                  [7m|[0m[38;5;130m[49m 11 [39m        self.n = [31m0[39m                 
[1;7mdemo.py [+]           6,1            Top [0;7m[39m[49mdemo.py [+]          1,1            Top
[0m[38;5;130m[49m 12 [39m                   
[38;5;130m 13 [39m    [38;5;130mdef[39m [36mtick[39m(self):
[38;5;130m 14 [39m        self.n += [31m1[39m  
[38;5;130m 15 [39m        [38;5;130mreturn[39m self.n
[38;5;130m 16 
 17 [39m                          
[38;5;130m 18 if[39m __name__ == [31m"__main__"[39m:                                     
[38;5;130m 19 [39m    [36mprint[39m(greet(sys.argv[[31m1[39m] [38;5;130mif[39m [36mlen[39m(sys.argv) > [31m1[39m [38;5;130melse[39m [31m"world"[39m))             
[38;5;130m 20 [39m    [34m# edited in vim: é, 中文, emoji 😀[39m                                      
[94m~                                                                               
[7m[39mdemo.py [+]                                                   20,40-37       Bot
[0m[39m[49m:vsplit                                                                

#include "airlock.h"
int main(void){return 0;}
